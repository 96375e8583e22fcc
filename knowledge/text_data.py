"""The translator's data half: the message files, read and validated once.

Split from :mod:`.text` (the one translator, through which every look-up goes) to keep
each module small: this one knows the file format, ``text`` what to say. Nothing but
``text`` and the tests import it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from .templates import placeholders_of

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")


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


# The message files, in knowledge/data/. One key space over all of them.
DATA_FILES = (
    "words.toml",  # the shared vocabulary: layers, risks, answers, sides, lab
    "evidence.toml",  # the engine's step notes and evidence lines
    "ui.toml",  # the TUI's Start, Walk, Help screens and dialogs
    "ui_views.toml",  # the TUI's Packets and Tables screens
    "ui_records.toml",  # the TUI's Sessions screen
    "ui_changes.toml",  # the walk's changes panel: fixes applied, their undo
    "ui_replay.toml",  # the replay's timeline
    "reports.toml",  # Markdown report, console report, diff, causes, CLI messages
    "cli.toml",  # the command line: option help, argparse's words, vantage syntax, lab up/down
    "lab.toml",  # the fault lab's scenario descriptions
)


class TextDataError(ValueError):
    """A message file is malformed; the message names the file and the key."""


class UnknownTextKey(KeyError):
    """Code asked for a key no message file has (raised in strict mode only)."""

    def __str__(self) -> str:  # KeyError would print the repr of the key only
        return f"no text has the key {self.args[0]!r} (knowledge/data: {', '.join(DATA_FILES)})"


def parse_texts(text: str, where: str = "text") -> dict[str, Localized]:
    """Parse and validate one message file: ``{"firewall.counter_moved": Localized(…), …}``.

    Tables nest (``[firewall]`` then ``counter_moved = {en = …, zh = …}``); a leaf is a
    table with exactly ``en`` and ``zh``, both non-empty, one line each, with the same
    placeholders. Values are kept as written, leading spaces included: a fragment such
    as ``" (managed by {manager})"`` is appended to a sentence and carries its own
    spacing, which differs between the two languages.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TextDataError(f"{where}: {exc}") from exc
    flat: dict[str, Localized] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for name, value in node.items():
            key = f"{prefix}.{name}" if prefix else name
            if not isinstance(value, Mapping):
                raise TextDataError(f"{where}: {key} is neither a table nor an en/zh pair")
            if set(value) & set(LANGS):
                flat[key] = _leaf(where, key, value)
            else:
                walk(key, value)

    walk("", data)
    if not flat:
        raise TextDataError(f"{where}: no texts")
    return flat


def _leaf(where: str, key: str, value: Mapping[str, Any]) -> Localized:
    if set(value) != set(LANGS):
        raise TextDataError(f"{where}: {key} must have exactly 'en' and 'zh', has {sorted(value)}")
    en, zh = value["en"], value["zh"]
    if not isinstance(en, str) or not isinstance(zh, str) or not en.strip() or not zh.strip():
        raise TextDataError(f"{where}: {key} is empty in one language")
    if "\n" in en or "\n" in zh:
        raise TextDataError(f"{where}: {key} is more than one line")
    try:
        en_fields, zh_fields = placeholders_of(en), placeholders_of(zh)
    except ValueError as exc:
        raise TextDataError(f"{where}: {key}: {exc}") from exc
    if en_fields != zh_fields:
        raise TextDataError(f"{where}: {key}: en uses {sorted(en_fields)} but zh uses {sorted(zh_fields)}")
    return Localized(en, zh)


@cache
def file_texts(name: str) -> dict[str, Localized]:
    """The messages of one file of :data:`DATA_FILES` (loaded and validated once)."""
    return parse_texts(resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8"), name)


@cache
def texts() -> dict[str, Localized]:
    """Every message of every packaged file, by key: one key space, each key defined once."""
    flat: dict[str, Localized] = {}
    for name in DATA_FILES:
        for key, value in file_texts(name).items():
            if key in flat:
                raise TextDataError(f"{name}: {key} is already defined by another file")
            flat[key] = value
    return flat
