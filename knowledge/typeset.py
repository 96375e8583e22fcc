"""Typesetting on a terminal: how many columns a text takes, and where it may break.

Why a module of its own: the translator (:mod:`.text`) decides what is said; how it
fits in 80 columns is a separate question with rules of its own. A CJK character
takes two columns and a combining mark none, so widths are counted by
``east_asian_width``, never by code points; Chinese may break between any two
characters but never before closing punctuation nor after an opening bracket; and
Chinese prose wants full-width punctuation (:func:`punctuation_slips`, which the
data tests hold every zh text to). Nothing here knows a text key or a language, and
:mod:`.text` re-exports every public name, so callers keep one import.
"""

from __future__ import annotations

import re
import unicodedata


def char_width(ch: str) -> int:
    """Terminal columns of one character: 2 for East Asian wide/fullwidth, 0 for combining."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (one line)."""
    return sum(char_width(ch) for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` columns (never truncated)."""
    return text + " " * max(0, width - display_width(text))


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` columns.

    English breaks at spaces; Chinese may break between any two CJK characters,
    as Chinese typesetting does. A single word longer than the width is cut.
    """
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            candidate = line + token
            if display_width(candidate) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = token.lstrip()
            while display_width(line) > width:  # a word wider than the column
                cut = _cut(line, width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


# Chinese typesetting never starts a line with these: they stick to what precedes them.
_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)")
# ... nor ends one with these: an opening bracket sticks to what follows it.
_NO_LINE_END = set("（《「『【")


def _tokens(text: str) -> list[str]:
    """Words with their leading spaces; every wide character is a token of its own, except
    that closing punctuation joins what precedes it and an opening bracket what follows."""
    tokens: list[str] = []
    token = ""
    for ch in text:
        if ch in _NO_LINE_START and (token or tokens):
            if token:
                token += ch
            else:
                tokens[-1] += ch
        elif ch == " " and token and not token.isspace():
            tokens.append(token)
            token = ch
        elif char_width(ch) == 2:
            if token and token[-1] not in _NO_LINE_END:
                tokens.append(token)
                token = ""
            token += ch
            if ch not in _NO_LINE_END:
                tokens.append(token)
                token = ""
        else:
            token += ch
    if token:
        tokens.append(token)
    return tokens


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns with ``…``, never inside a wide character;
    ``width <= 0`` keeps it whole (a file or a pipe)."""
    if width <= 0 or display_width(text) <= width:
        return text
    return text[: _cut(text, max(10, width - 1))] + "…"


def _cut(text: str, width: int) -> int:
    used = 0
    for i, ch in enumerate(text):
        used += char_width(ch)
        if used > width:
            return max(1, i)
    return len(text)


_ASCII_PUNCT = ",;:()?!"
_CODE_OR_FIELD = re.compile(r"`[^`]*`|\{[a-z_]+\}|“[^”]*”")


def punctuation_slips(text: str) -> list[str]:
    """ASCII punctuation touching a CJK character in Chinese prose, e.g. ``网桥,`` for ``网桥，``.

    Chinese typesetting uses full-width ，；：（）？！; ASCII ones next to Chinese
    characters read as a slip. Code spans (backticks), placeholders and quoted
    program output are exempt. Returns the offending snippets (empty when clean);
    the data tests hold every zh text to it.
    """
    bare = _CODE_OR_FIELD.sub(" ", text)
    slips = []
    for i, ch in enumerate(bare):
        if ch not in _ASCII_PUNCT:
            continue
        before = bare[i - 1] if i else ""
        after = bare[i + 1] if i + 1 < len(bare) else ""
        if (before and char_width(before) == 2) or (after and char_width(after) == 2):
            slips.append(bare[max(0, i - 6) : i + 7])
    return slips
