"""The cause catalogue as loaded: parsing and validating ``data/causes.toml``, and looking causes up.

Split out of :mod:`.catalog` so what makes the data file valid (fields, placeholders,
one command per fix, risks) sits with the :class:`Cause` it produces and the queries
over the loaded table, apart from the template machinery and the rendering.
"""

from __future__ import annotations

import shlex
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from vnetdoctor.probes.vocabulary import CAUSE_LAYERS

# A cause found by no one layer's check (the kernel's word on a drop, kernel.drop_unexplained)
# sits on "any": listed after the layers, ranked after them in a verdict.
ANY_LAYER = "any"
CATALOG_LAYERS: tuple[str, ...] = (*CAUSE_LAYERS, ANY_LAYER)

from .catalog_templates import (
    _PUNCTUATION,
    LAB_VALUES,
    PLACEHOLDERS,
    RISKS,
    SUMMARY_PLACEHOLDERS,
    CatalogError,
    FixTemplate,
    UnknownCause,
    placeholders_of,
)
from .text import Localized, char_width, t


@dataclass(frozen=True)
class Cause:
    """A root cause: what is wrong, why ping breaks, what proves it, how to fix it."""

    id: str
    layer: str
    lab: str  # yes | libvirt | sim | no  (does the fault lab reproduce it?)
    title_text: Localized
    explanation_text: Localized
    proof_text: Localized
    summary_text: Localized
    lab_note_text: Localized
    fixes: tuple[FixTemplate, ...]

    def title(self, lang: str = "en") -> str:
        return t(self.title_text, lang)

    def explanation(self, lang: str = "en") -> str:
        return t(self.explanation_text, lang)

    def proof(self, lang: str = "en") -> str:
        return t(self.proof_text, lang)

    def summary_template(self, lang: str = "en") -> str:
        return t(self.summary_text, lang)

    def lab_note(self, lang: str = "en") -> str:
        return t(self.lab_note_text, lang)

    @property
    def summary_fields(self) -> frozenset[str]:
        """The names a rule must supply to render this cause's summary (either language)."""
        return placeholders_of(self.summary_text.en) | placeholders_of(self.summary_text.zh)

    @property
    def fix_fields(self) -> frozenset[str]:
        """The names a rule must supply to render all of this cause's fixes."""
        names: frozenset[str] = frozenset()
        for fix in self.fixes:
            names |= fix.placeholders
        return names

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The ``causes --json`` object, in one language (templates left unfilled)."""
        return {
            "id": self.id,
            "layer": self.layer,
            "title": self.title(lang),
            "explanation": self.explanation(lang),
            "proof": self.proof(lang),
            "summary": self.summary_template(lang),
            "lab": self.lab,
            "lab_note": self.lab_note(lang),
            "fixes": [f.to_dict(lang) for f in self.fixes],
        }


# ------------------------------------------------------------------------------ values


@cache
def _data_text() -> str:
    return resources.files(__package__).joinpath("data", "causes.toml").read_text(encoding="utf-8")


@cache
def _catalog() -> dict[str, Cause]:
    return parse_catalog(_data_text())


@dataclass(frozen=True)
class FixWords:
    """How the operator reads a fix that is guidance: the names of the values it lacks."""

    labels: Mapping[str, Localized]  # placeholder name -> "interface name" / "网卡名"
    guidance: Mapping[str, Localized]  # "needs", "recorded"


GUIDANCE_KEYS: Mapping[str, frozenset[str]] = {
    "needs": frozenset({"names"}),
    "recorded": frozenset({"command"}),
    "machine_wide": frozenset({"command", "where"}),
}


@cache
def _fix_words() -> FixWords:
    return parse_fix_words(_data_text(), complete=True)


def _load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"causes.toml: {exc}") from exc


def parse_fix_words(text: str, *, complete: bool = False) -> FixWords:
    """The ``[placeholder]`` labels and ``[guidance]`` sentences (``complete``: all present)."""
    return _fix_words_of(_load_toml(text), complete)


def _fix_words_of(data: Mapping[str, Any], complete: bool) -> FixWords:
    def table(name: str, known: frozenset[str] | Mapping[str, Any]) -> dict[str, Localized]:
        out: dict[str, Localized] = {}
        for key, raw in (data.get(name) or {}).items():
            if key not in known:
                raise CatalogError(f"[{name}] {key}: not a known name ({sorted(known)})")
            try:
                value = Localized.from_data(raw, f"[{name}] {key}")
            except (TypeError, ValueError) as exc:
                raise CatalogError(str(exc)) from exc
            if not (value.en and value.zh):
                raise CatalogError(f"[{name}] {key}: empty in one language")
            out[key] = value
        if complete and set(out) != set(known):
            raise CatalogError(f"[{name}]: missing {sorted(set(known) - set(out))}")
        return out

    labels = table("placeholder", PLACEHOLDERS)
    guidance = table("guidance", GUIDANCE_KEYS)
    for key, value in guidance.items():
        for lang in ("en", "zh"):
            if placeholders_of(value[lang]) != GUIDANCE_KEYS[key]:
                raise CatalogError(f"[guidance] {key} ({lang}): must use {sorted(GUIDANCE_KEYS[key])}")
    return FixWords(labels, guidance)


def parse_catalog(text: str) -> dict[str, Cause]:
    """Parse and validate the TOML text of a catalogue (public for tests of bad data)."""
    data = _load_toml(text)
    unknown = set(data) - {"cause", "placeholder", "guidance"}
    if unknown:
        raise CatalogError(f"causes.toml: unknown table(s) {sorted(unknown)}")
    _fix_words_of(data, complete=False)
    causes: dict[str, Cause] = {}
    for index, entry in enumerate(data.get("cause", ())):
        cause = _parse_cause(entry, index)
        if cause.id in causes:
            raise CatalogError(f"cause {cause.id}: defined twice")
        causes[cause.id] = cause
    if not causes:
        raise CatalogError("causes.toml: no [[cause]] entries")
    return causes


def _parse_cause(entry: Mapping[str, Any], index: int) -> Cause:
    cid = entry.get("id")
    if not isinstance(cid, str) or not cid:
        raise CatalogError(f"cause #{index + 1}: missing id")
    known = {"id", "layer", "lab", "lab_note", "title", "explanation", "proof", "summary", "fixes"}
    unknown = set(entry) - known
    if unknown:
        raise CatalogError(f"cause {cid}: unknown field(s) {sorted(unknown)}")
    layer = entry.get("layer")
    if layer not in CATALOG_LAYERS:
        raise CatalogError(f"cause {cid}: layer {layer!r} is not one of {', '.join(CATALOG_LAYERS)}")
    lab = entry.get("lab")
    if lab not in LAB_VALUES:
        raise CatalogError(f"cause {cid}: lab {lab!r} is not one of {LAB_VALUES}")

    def text(name: str, *, required: bool = True, template: frozenset[str] | None = None) -> Localized:
        raw = entry.get(name)
        if raw is None and not required:
            return Localized("", "")
        try:
            value = Localized.from_data(raw, f"cause {cid}: {name}")
        except (TypeError, ValueError) as exc:
            raise CatalogError(str(exc)) from exc
        value = Localized(join_lines(value.en), join_lines(value.zh))
        if required and not (value.en and value.zh):
            raise CatalogError(f"cause {cid}: {name} is empty in one language")
        _check_fields(value, template, f"cause {cid}: {name}")
        return value

    lab_note = text("lab_note", required=lab != "yes", template=frozenset())
    fixes = tuple(_parse_fix(cid, raw, i) for i, raw in enumerate(entry.get("fixes", ())))
    if not fixes:
        raise CatalogError(f"cause {cid}: no fixes")
    return Cause(
        id=cid,
        layer=layer,
        lab=lab,
        title_text=text("title", template=frozenset()),
        explanation_text=text("explanation", template=frozenset()),
        proof_text=text("proof", template=frozenset()),
        summary_text=text("summary", template=SUMMARY_PLACEHOLDERS),
        lab_note_text=lab_note,
        fixes=fixes,
    )


def _command(raw: Mapping[str, Any], name: str, where: str) -> str:
    """The fix's ``command`` or ``undo``: present, a string, and a command we can run."""
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {name} is missing")
    _check_command(value.strip(), f"{where}: {name}")
    return value.strip()


def _parse_fix(cid: str, raw: Mapping[str, Any], index: int) -> FixTemplate:
    where = f"cause {cid}: fix #{index + 1}"
    unknown = set(raw) - {"command", "undo", "risk", "note", "when"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
    command, undo = (_command(raw, name, where) for name in ("command", "undo"))
    risk = raw.get("risk")
    if risk not in RISKS:
        raise CatalogError(f"{where}: risk {risk!r} is not one of {RISKS}")
    when = raw.get("when", "")
    if when and (not isinstance(when, str) or when.count("=") != 1 or " " in when):
        raise CatalogError(f"{where}: when must look like key=value, got {when!r}")
    try:
        note = Localized.from_data(raw.get("note"), f"{where}: note")
    except (TypeError, ValueError) as exc:
        raise CatalogError(str(exc)) from exc
    note = Localized(join_lines(note.en), join_lines(note.zh))
    if not (note.en and note.zh):
        raise CatalogError(f"{where}: note is empty in one language")
    used = placeholders_of(command) | placeholders_of(undo)
    # A note may only mention what the command already needs: otherwise a rule that
    # supplies the command's variables would still fail on the note.
    _check_fields(note, used, f"{where}: note")
    return FixTemplate(cid, command, undo, risk, note, when)


def _check_command(template: str, where: str) -> None:
    try:
        names = placeholders_of(template)
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    bad = names - PLACEHOLDERS
    if bad:
        raise CatalogError(f"{where}: unknown placeholder(s) {sorted(bad)}")
    sample = template.format(**{name: "x" for name in names})
    if not is_one_command(sample):
        raise CatalogError(f"{where}: not one plain command (shell operators or substitution): {template!r}")


def is_one_command(command: str) -> bool:
    """True when ``command`` is one plain command: no ``&& | ; > <`` outside quotes, no ``$(`` or backticks."""
    if "$(" in command or "`" in command:
        return False
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes
        return False
    return bool(tokens) and not any(tok and set(tok) <= set(_PUNCTUATION) for tok in tokens)


def _check_fields(value: Localized, allowed: frozenset[str] | None, where: str) -> None:
    if allowed is None:
        return
    for lang in ("en", "zh"):
        try:
            names = placeholders_of(value[lang])
        except ValueError as exc:
            raise CatalogError(f"{where} ({lang}): {exc}") from exc
        bad = names - allowed
        if bad:
            raise CatalogError(f"{where} ({lang}): placeholder(s) {sorted(bad)} not allowed here")


def join_lines(text: str) -> str:
    """Join prose wrapped over several lines of the data file into one paragraph.

    Lines are joined with a space, except between two wide (CJK) characters where
    Chinese puts none; a blank line keeps a paragraph break.
    """
    paragraphs: list[str] = []
    for block in text.strip().split("\n\n"):
        joined = ""
        for line in (part.strip() for part in block.splitlines()):
            if not line:
                continue
            if joined and _space_between(joined[-1], line[0]):
                joined += " "
            joined += line
        if joined:
            paragraphs.append(joined)
    return "\n".join(paragraphs)


def _space_between(left: str, right: str) -> bool:
    """Whether a line break between these two characters reads as a space.

    Not between two CJK characters, nor next to full-width punctuation (，。；：
    already carry their own spacing).
    """
    left_wide, right_wide = char_width(left) == 2, char_width(right) == 2
    if left_wide and right_wide:
        return False
    if left_wide and unicodedata.category(left).startswith("P"):
        return False
    return not (right_wide and unicodedata.category(right).startswith("P"))


# ------------------------------------------------------------------------------ queries


def all_causes() -> tuple[Cause, ...]:
    """Every cause, in catalogue order (by layer, as the walk meets them)."""
    return tuple(_catalog().values())


def cause_ids() -> tuple[str, ...]:
    return tuple(_catalog())


def get_cause(cause_id: str) -> Cause:
    try:
        return _catalog()[cause_id]
    except KeyError:
        raise UnknownCause(cause_id) from None


def causes_by_layer() -> dict[str, tuple[Cause, ...]]:
    """Causes grouped by layer, layers in walk order, empty layers left out."""
    groups: dict[str, list[Cause]] = {layer: [] for layer in CATALOG_LAYERS}
    for cause in all_causes():
        groups[cause.layer].append(cause)
    return {layer: tuple(items) for layer, items in groups.items() if items}


# ------------------------------------------------------------------------------ rendering


