"""Key descriptions in the operator's language: the Textual side of the translator.

The words themselves come from :mod:`vnetdoctor.knowledge.text` (the one translator;
this floor may not hold strings of its own). Bindings carry a text key as their
description; :func:`translate_bindings` swaps in the text once per screen, which is
what the footer, the help screen and the command palette then show. It lives here
and not with the translator because it touches Textual objects, which the headless
floors must never import.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.binding import BindingsMap
from textual.dom import DOMNode

from vnetdoctor.knowledge.text import Translator, texts, tr


def _text(description: str, lang: str) -> str:
    """A binding's text: its key's text, or as it is when it is no key (Textual's own
    bindings describe themselves in English; ours carry keys, checked by the i18n test)."""
    return tr(description, lang) if description in texts() else description


def translate_bindings(node: DOMNode, lang: str) -> Translator:
    """Replace the node's binding descriptions (text keys) with their text in ``lang``;
    returns the translator the node keeps for the rest of its text.

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
                description=_text(b.description, lang),
                tooltip=_text(b.tooltip, lang),
                group=(
                    dataclasses.replace(b.group, description=_text(b.group.description, lang))
                    if b.group is not None and b.group.description
                    else b.group
                ),
            )
            for b in bindings
        ]
    node._bindings = BindingsMap.from_keys(keys)
    return Translator(lang)
