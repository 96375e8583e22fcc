"""A text that remembers how it was said, so a record can be read in the other language.

Evidence, notes and summaries reach the record as finished sentences in the
operator's language. A colleague who reads Chinese exporting a session recorded in
English (or the reverse) must get one language throughout, and re-running the walk
is not an option (its pings and capture cannot be repeated from a record). So every
text the translator makes is a :class:`Phrase`: still the ``str`` every caller
expects, carrying the template key and the facts that filled it. The record keeps
those facts beside the sentence (``"say"``, see :func:`said`), and an export renders
them again in the language it is asked for (:func:`.text.in_lang`).

Only what the translator made carries its facts: a sentence glued together from
pieces (``a + b``) is a plain ``str`` again and is exported as it was recorded, with
a notice (never silently in the other language).

Ground floor of ``knowledge``: no import from the rest of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# How a phrase was made, in its JSON form (what the record stores under "say"):
#   {"tr": KEY, "audience": "tui"?, "values": {NAME: VALUE}}  one translated template
#   {"join": SEP_KEY, "items": [VALUE, ...]}                   a list in running text
#   {"reason": TEXT}                                           a probe's own (English) words
#   {"concat": [VALUE, ...]}                                   phrases glued together
#   {"summary": CAUSE, "values": {...}}                        a cause's one-line summary
#   {"fix_note": CAUSE, "command": TEMPLATE, "values": {...}}  a fix's note
# A VALUE is a JSON scalar, or {"say": HOW} for a phrase inside a phrase.
How = Mapping[str, Any]


class Phrase(str):
    """A ``str`` made by the translator, with how it was made (:attr:`how`, raw until :func:`said`)."""

    how: How | None

    def __new__(cls, text: str, how: How | None = None) -> Phrase:
        obj = super().__new__(cls, text)
        obj.how = how
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (Phrase, (str(self), self.how))

    # Two phrases glued together (a rule's description and who manages it) stay a phrase;
    # glued to a plain string they are a plain string: its language is not known.
    def __add__(self, other: str) -> str:
        if other == "":
            return self
        if isinstance(other, Phrase) and other.how is not None and self.how is not None:
            return Phrase(str.__add__(self, other), {"concat": [self, other]})
        return str.__add__(self, other)

    def __radd__(self, other: str) -> str:
        if other == "":
            return self
        return str.__add__(other, self)


def value_json(value: Any) -> Any:
    """One fact as the record stores it: a scalar as it is, a phrase as its facts, the rest as text."""
    if isinstance(value, Phrase) and value.how is not None:
        return {"say": said_json(value.how)}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping) and "say" in value:  # read back from a record: already its facts
        return value
    return str(value)


def said_json(how: How) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in how.items():
        if key == "values":
            out[key] = {str(k): value_json(v) for k, v in value.items()}
        elif key in ("items", "concat"):
            out[key] = [value_json(v) for v in value]
        else:
            out[key] = value
    return out


def said(text: Any) -> dict[str, Any] | None:
    """The facts ``text`` was made from, JSON-ready; None for a plain string.

    A text glued together thousands of times nests that deep: it is kept as a sentence.
    """
    if isinstance(text, Phrase) and text.how is not None:
        try:
            return said_json(text.how)
        except RecursionError:
            return None
    return None


def from_record(text: str, say: Any) -> str:
    """A recorded sentence with its facts (``say``) as a phrase again; a plain string without."""
    return Phrase(text, say) if isinstance(say, Mapping) else text
