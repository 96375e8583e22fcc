"""Language choice and the small vocabulary every screen shares, in English and 简体中文.

The documents vnetdoctor comes from are Chinese and many of its operators read
Chinese first, so every text the operator reads exists in both languages. This
module decides which one to show and keeps the handful of words (layer names,
risk levels, answers) that would otherwise be re-translated in every widget.

Also here: the display width of a string on a terminal. A CJK character takes two
columns; counting code points instead would overflow an 80-column console.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

# Read in this order, as gettext does: LANGUAGE first, then the POSIX precedence.
_LANG_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def choose_lang(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    """The language to speak: ``--lang`` wins, else the locale variables, else English.

    The first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set and not empty
    decides (so ``LC_ALL=C`` overrides ``LANG=zh_CN.UTF-8``, as it does for every
    other program): a value starting with ``zh`` means Chinese, anything else
    English. ``environ`` is for tests; it defaults to ``os.environ``.
    """
    if explicit:
        return "zh" if explicit.strip().lower().startswith("zh") else "en"
    env = os.environ if environ is None else environ
    for name in _LANG_VARS:
        value = env.get(name, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def t(mapping: Mapping[str, str] | None, lang: str) -> str:
    """``mapping[lang]``, falling back to English, then to the empty string.

    The fallback is deliberate: a text missing in one language must still show
    something (tests make sure nothing shipped relies on it).
    """
    if not mapping:
        return ""
    return mapping.get(lang) or mapping.get("en") or ""


@dataclass(frozen=True)
class Localized(Mapping[str, str]):
    """One text in both languages; a read-only mapping ``{"en": …, "zh": …}``.

    Frozen and hashable so that the catalogue's dataclasses can stay frozen.
    """

    en: str
    zh: str

    def __getitem__(self, key: str) -> str:
        if key == "en":
            return self.en
        if key == "zh":
            return self.zh
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)

    def __call__(self, lang: str = "en") -> str:
        return t(self, lang)

    @classmethod
    def from_data(cls, data: object, what: str) -> Localized:
        """Build from a TOML table ``{en = "…", zh = "…"}``; ``what`` names it in errors."""
        if not isinstance(data, Mapping):
            raise TypeError(f"{what}: expected a table with 'en' and 'zh', got {type(data).__name__}")
        extra = set(data) - set(LANGS)
        if extra:
            raise ValueError(f"{what}: unknown language(s) {sorted(extra)}")
        en, zh = data.get("en"), data.get("zh")
        if not isinstance(en, str) or not isinstance(zh, str):
            raise TypeError(f"{what}: both 'en' and 'zh' must be strings")
        return cls(en.strip(), zh.strip())


# The walk's layers as the operator reads them. Keys are LAYER_ORDER of probes/vocabulary.py.
LAYER_NAMES: Mapping[str, Localized] = {
    "symptom": Localized("Symptom", "故障现象"),
    "platform": Localized("Virtualisation platform", "虚拟化平台"),
    "physical": Localized("Physical layer", "物理层"),
    "datalink": Localized("Data link layer", "数据链路层"),
    "network": Localized("Network layer", "网络层"),
    "transport": Localized("Transport layer", "传输层"),
    "application": Localized("Application layer", "应用层"),
    "any": Localized("Any layer", "任意层"),
}

RISK_NAMES: Mapping[str, Localized] = {
    "low": Localized("low", "低"),
    "medium": Localized("medium", "中"),
    "high": Localized("high", "高"),
}

# Labels of the answers most question nodes offer; others carry their own labels.
CHOICE_LABELS: Mapping[str, Localized] = {
    "yes": Localized("yes", "是"),
    "no": Localized("no", "否"),
    "unknown": Localized("don't know / can't check", "不清楚 / 无法检查"),
}

SIDE_NAMES: Mapping[str, Localized] = {
    "host": Localized("the host", "宿主机"),
    "guest": Localized("the guest", "虚拟机"),
}

# Whether the fault lab reproduces a cause (the ``lab`` field of causes.toml).
LAB_NAMES: Mapping[str, Localized] = {
    "yes": Localized("yes", "是"),
    "libvirt": Localized("libvirt", "libvirt"),
    "sim": Localized("sim", "模拟"),
    "no": Localized("no", "否"),
}


def layer_name(layer: str, lang: str) -> str:
    return t(LAYER_NAMES.get(layer), lang) or layer


def risk_name(risk: str, lang: str) -> str:
    return t(RISK_NAMES.get(risk), lang) or risk


def side_name(side: str, lang: str) -> str:
    """``host``/``guest`` in the operator's language; anything else (a vantage) unchanged."""
    return t(SIDE_NAMES.get(side), lang) or side


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


def _tokens(text: str) -> list[str]:
    """Words with their leading spaces; every wide character is a token of its own."""
    tokens: list[str] = []
    token = ""
    for ch in text:
        if ch in _NO_LINE_START and not token and tokens:
            tokens[-1] += ch
        elif ch == " " and token and not token.isspace():
            tokens.append(token)
            token = ch
        elif char_width(ch) == 2:
            if token:
                tokens.append(token)
            tokens.append(ch)
            token = ""
        else:
            token += ch
    if token:
        tokens.append(token)
    return tokens


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
