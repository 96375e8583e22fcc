"""The Packets and Tables screens' strings, from ``knowledge/data/ui_views.toml``.

The shared loader (:mod:`.i18n`) reads ``ui.toml``; the two evidence screens keep
their strings in a file of their own so that two people can edit them without
conflicts. This module reads that file with the same rules (nested tables of
``{en, zh}`` pairs, flattened to dotted keys) and falls back to :func:`.i18n.tr`
for any key it does not have, so screens may use shared keys too. Once the
shared loader reads ``ui_views.toml`` itself this becomes a thin alias.

It also localises binding descriptions (which are text keys, as the rest of the
TUI's bindings are) with these strings, the way :func:`.i18n.translate_bindings`
does with the shared ones.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from rich.text import Text
from textual.binding import BindingsMap
from textual.dom import DOMNode

LANGS = ("en", "zh")
DATA_FILE = "data/ui_views.toml"


def _flatten(prefix: str, node: Mapping[str, Any], out: dict[str, dict[str, str]]) -> None:
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping) and value and set(value) <= set(LANGS):
            out[name] = {lang: str(v) for lang, v in value.items()}
        elif isinstance(value, Mapping):
            _flatten(name, value, out)
        else:
            raise ValueError(f"ui_views.toml: {name} is neither a table nor an en/zh pair")


@functools.lru_cache(maxsize=1)
def load_view_strings() -> dict[str, dict[str, str]]:
    """``{"packets.pause": {"en": …, "zh": …}, …}``."""
    text = resources.files("vnetdoctor.knowledge").joinpath(DATA_FILE).read_text("utf-8")
    out: dict[str, dict[str, str]] = {}
    _flatten("", tomllib.loads(text), out)
    return out


def _shared(key: str, lang: str) -> str:
    try:
        from .i18n import tr
    except ImportError:  # the shared loader is not there: the key shows as itself
        return key
    try:
        return tr(key, lang)
    except (OSError, ValueError):  # ui.toml missing or malformed: our own strings still work
        return key


def view_tr(key: str, lang: str = "en", /, **fmt: Any) -> str:
    """The text for ``key`` in ``lang`` (English when missing), formatted with ``fmt``.

    An unknown key shows as itself so a missing string is visible, not a crash.
    """
    entry = load_view_strings().get(key)
    text = (entry.get(lang) or entry.get("en") or key) if entry else _shared(key, lang)
    if fmt:
        try:
            return text.format(**fmt)
        except (KeyError, IndexError, ValueError):
            return text
    return text


class ViewText:
    """``view_tr`` bound to one language: what the screens keep as ``self.text``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "en"

    def __call__(self, key: str, /, **fmt: Any) -> str:
        return view_tr(key, self.lang, **fmt)


def localize_bindings(node: DOMNode, text: ViewText) -> None:
    """Replace the node's binding descriptions (text keys) with their text.

    Textual gives each node its own copy of the merged bindings map, so this
    changes one screen instance, never the class; keys and ids are kept, so a
    keymap still remaps by id.
    """
    keys: dict[str, list[Any]] = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        keys[key] = [
            dataclasses.replace(
                b,
                description=text(b.description) if b.description else "",
                tooltip=text(b.tooltip) if b.tooltip else "",
                group=(
                    dataclasses.replace(b.group, description=text(b.group.description))
                    if b.group is not None and b.group.description
                    else b.group
                ),
            )
            for b in bindings
        ]
    node._bindings = BindingsMap.from_keys(keys)


def request_line(state: Any) -> Text:
    """The request for a title bar's right part, in the App's wording, dimmed."""
    from .i18n import Translator
    from .widgets.title_bar import describe_request

    return Text(describe_request(state.request, Translator(state.lang)), style="dim")
