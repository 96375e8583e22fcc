"""Every string the TUI shows, in the operator's language, from ``knowledge/data/ui.toml``.

The strings live with the rest of the knowledge base (not in the widgets) so that a
translator edits one data file, and so that a test can prove every key the TUI
uses exists in English and in Simplified Chinese. Bindings carry an i18n key as
their description; :func:`translate_bindings` swaps in the text once per screen,
which is what the footer, the help screen and the command palette then show.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from textual.binding import BindingsMap
from textual.dom import DOMNode

LANGS = ("en", "zh")


# ui.toml holds the strings of Start, Walk, Help and the dialogs; ui_views.toml those
# of the Packets and Tables screens; ui_records.toml the Sessions screen's (kept
# apart so several people can edit them).
DATA_FILES = ("data/ui.toml", "data/ui_views.toml", "data/ui_records.toml")


@functools.lru_cache(maxsize=1)
def load_strings() -> dict[str, dict[str, str]]:
    """``{"walk.next": {"en": "next", "zh": "下一步"}, …}`` from the packaged data files."""
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping) and set(value) <= set(LANGS) and value:
                flat[name] = {lang: str(v) for lang, v in value.items()}
            elif isinstance(value, Mapping):
                walk(name, value)
            else:
                raise ValueError(f"ui.toml: {name} is neither a table nor an en/zh pair")

    root = resources.files("vnetdoctor.knowledge")
    for name in DATA_FILES:
        path = root.joinpath(name)
        if name != DATA_FILES[0] and not path.is_file():
            continue
        walk("", tomllib.loads(path.read_text("utf-8")))
    return flat


def tr(key: str, lang: str = "en", /, **fmt: Any) -> str:
    """The text for ``key`` in ``lang`` (English when missing), formatted with ``fmt``.

    An unknown key shows as itself, so a missing string is visible on screen and
    caught by the i18n test rather than crashing an operator's session.
    """
    entry = load_strings().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("en") or key
    if fmt:
        try:
            return text.format(**fmt)
        except (KeyError, IndexError, ValueError):
            return text
    return text


class Translator:
    """``tr`` bound to one language: what screens and widgets keep as ``self.tr``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "en"

    def __call__(self, key: str, /, **fmt: Any) -> str:
        return tr(key, self.lang, **fmt)

    def label(self, key: str, /, **fmt: Any) -> str:
        """The text followed by the language's colon (full-width in Chinese)."""
        return tr(key, self.lang, **fmt) + ("：" if self.lang == "zh" else ":")


def translate_bindings(node: DOMNode, lang: str) -> None:
    """Replace the node's binding descriptions (i18n keys) with their text in ``lang``.

    Bindings are class attributes shared by every instance; each node holds its
    own copy in ``_bindings`` (Textual copies the merged map per instance), so
    rewriting that copy translates this screen without touching the class. Keys
    and ids stay as they are: the keymap still remaps by id.
    """
    keys: dict[str, list[Any]] = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        keys[key] = [
            dataclasses.replace(
                b,
                description=tr(b.description, lang) if b.description else "",
                tooltip=tr(b.tooltip, lang) if b.tooltip else "",
                group=(
                    dataclasses.replace(b.group, description=tr(b.group.description, lang))
                    if b.group is not None and b.group.description
                    else b.group
                ),
            )
            for b in bindings
        ]
    node._bindings = BindingsMap.from_keys(keys)
