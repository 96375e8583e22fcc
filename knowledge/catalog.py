"""The cause catalogue: every root cause vnetdoctor can name, loaded from ``data/causes.toml``.

A cause id (``firewall.guest_blocks``) is a public contract: it appears in
``diagnose --json``, in recorded sessions and in the docs. Everything the operator
reads about a cause lives in the data file, in English and Simplified Chinese: the
title, what is wrong and why it breaks ping, what proves it, a one-line summary
template, and the fixes: exact commands with their undo and an honest risk.

Fix commands are ``str.format`` templates over a fixed vocabulary
(:data:`PLACEHOLDERS`) that the engine fills from what the probes saw. Rendering is
strict in tests and forgiving in production: a diagnosis must never crash because a
rule forgot a variable, but a test must say which one (see :func:`strict_default`).

The data is validated once, when first used; a broken catalogue fails loudly on
that first use (and in the tests) rather than halfway through a diagnosis.
"""

from __future__ import annotations

import os
import shlex
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .model import Fix
from .text import LAB_NAMES, Localized, char_width, t

# The only names a fix template (command, undo, note) may use. The engine fills them.
PLACEHOLDERS: frozenset[str] = frozenset(
    (
        "dev", "bridge", "port", "ip", "prefixlen", "peer_ip", "gateway", "target", "subnet",
        "mac", "mtu", "size", "value", "sysctl", "family", "table", "chain", "handle", "rule",
        "tcp_port", "network", "domain", "iface", "uplink", "resolver",
    )
)
# Summaries may also say where (vantage or side), in which state, and the other party.
SUMMARY_PLACEHOLDERS: frozenset[str] = PLACEHOLDERS | {"where", "state", "other"}

CAUSE_LAYERS: tuple[str, ...] = ("platform", "physical", "datalink", "network", "transport", "application")
RISKS: tuple[str, ...] = ("low", "medium", "high")
LAB_VALUES: tuple[str, ...] = tuple(LAB_NAMES)  # yes, libvirt, sim, no

# Characters that, outside quotes, make a shell do more than run one command. The
# engine prefixes a command with `ip netns exec NS` (or runs it in the guest), which
# only works for one plain command.
_PUNCTUATION = "();<>|&"

_STRICT_ENV = "VNETDOCTOR_STRICT_TEMPLATES"


class CatalogError(ValueError):
    """The data file is malformed; the message names the cause and the field."""


class TemplateError(LookupError):
    """A template needs a placeholder nobody supplied (raised only in strict mode)."""

    def __init__(self, name: str, template: str, where: str) -> None:
        super().__init__(f"{where}: placeholder {{{name}}} not supplied for template {template!r}")
        self.name = name
        self.template = template


class UnknownCause(KeyError):
    """No cause with this id in the catalogue."""

    def __str__(self) -> str:  # KeyError would print the repr of the id only
        return f"unknown cause id {self.args[0]!r}"


def strict_default() -> bool:
    """Whether a missing placeholder raises (tests) or renders as ``<name>`` (production).

    ``VNETDOCTOR_STRICT_TEMPLATES=1``/``0`` decides when set; otherwise strict exactly
    when running under pytest, so every test that renders a finding proves the rule
    supplied all the variables its cause's templates use.
    """
    value = os.environ.get(_STRICT_ENV)
    if value is not None and value.strip() != "":
        return value.strip().lower() not in ("0", "no", "false", "off")
    return "PYTEST_CURRENT_TEST" in os.environ


def placeholders_of(template: str) -> frozenset[str]:
    """The field names ``template`` uses (``{{`` escapes excluded)."""
    names: set[str] = set()
    for _literal, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if spec or conversion or not field.isidentifier():
            raise ValueError(f"only plain {{name}} fields are allowed, got {{{field}}}")
        names.add(field)
    return frozenset(names)


def render_template(template: str, values: Mapping[str, Any], *, strict: bool | None = None, where: str = "template") -> str:
    """Fill ``template`` from ``values``.

    A name missing from ``values`` raises :class:`TemplateError` in strict mode and
    renders as ``<name>`` otherwise; a value of ``None`` or ``""`` always renders as
    ``<name>`` (the rule knew the variable but not its value: the operator should
    see that, not an empty gap). Extra values are ignored: the engine passes one set
    of facts to every template of a cause.
    """
    strict = strict_default() if strict is None else strict
    out: list[str] = []
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        if field not in values:
            if strict:
                raise TemplateError(field, template, where)
            out.append(f"<{field}>")
            continue
        value = values[field]
        out.append(f"<{field}>" if value is None or value == "" else str(value))
    return "".join(out)


@dataclass(frozen=True)
class FixTemplate:
    """One fix of a cause, before the engine fills in the names and addresses."""

    cause: str
    command: str
    undo: str
    risk: str
    note_text: Localized
    when: str = ""  # "key=value": the evidence under which this fix is the right one

    def note(self, lang: str = "en") -> str:
        return t(self.note_text, lang)

    @property
    def placeholders(self) -> frozenset[str]:
        """Every name the command, the undo and the note use."""
        return placeholders_of(self.command) | placeholders_of(self.undo) | placeholders_of(self.note_text.en) | placeholders_of(self.note_text.zh)

    def to_dict(self, lang: str = "en") -> dict[str, str]:
        return {"command": self.command, "undo": self.undo, "risk": self.risk, "note": self.note(lang), "when": self.when}


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


# ------------------------------------------------------------------------------ loading


@cache
def _catalog() -> dict[str, Cause]:
    text = resources.files(__package__).joinpath("data", "causes.toml").read_text(encoding="utf-8")
    return parse_catalog(text)


def parse_catalog(text: str) -> dict[str, Cause]:
    """Parse and validate the TOML text of a catalogue (public for tests of bad data)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"causes.toml: {exc}") from exc
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
    if layer not in CAUSE_LAYERS:
        raise CatalogError(f"cause {cid}: layer {layer!r} is not one of {CAUSE_LAYERS}")
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


def _parse_fix(cid: str, raw: Mapping[str, Any], index: int) -> FixTemplate:
    where = f"cause {cid}: fix #{index + 1}"
    unknown = set(raw) - {"command", "undo", "risk", "note", "when"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
    command, undo = raw.get("command"), raw.get("undo")
    for name, value in (("command", command), ("undo", undo)):
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: {name} is missing")
        _check_command(value.strip(), f"{where}: {name}")
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
    command, undo = command.strip(), undo.strip()
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
    groups: dict[str, list[Cause]] = {layer: [] for layer in CAUSE_LAYERS}
    for cause in all_causes():
        groups[cause.layer].append(cause)
    return {layer: tuple(items) for layer, items in groups.items() if items}


# ------------------------------------------------------------------------------ rendering


def render_fix(template: FixTemplate, lang: str = "en", *, where: str = "", strict: bool | None = None, **values: Any) -> Fix:
    """The exact command, undo and note for one fix, as a :class:`~.model.Fix`.

    ``where`` (the vantage the fix runs in) is copied into the Fix; the engine adds
    the ``ip netns exec`` prefix itself. Missing placeholders: see :func:`render_template`.
    """
    label = f"cause {template.cause}: fix {template.command!r}"
    return Fix(
        command=render_template(template.command, values, strict=strict, where=label),
        undo=render_template(template.undo, values, strict=strict, where=label),
        risk=template.risk,
        where=where,
        note=render_template(template.note(lang), values, strict=strict, where=label),
    )


def render_fixes(cause_id: str, lang: str = "en", *, where: str = "", strict: bool | None = None, **values: Any) -> tuple[Fix, ...]:
    """Every fix of a cause, rendered (``when`` filtering is the caller's business)."""
    return tuple(render_fix(f, lang, where=where, strict=strict, **values) for f in get_cause(cause_id).fixes)


def render_summary(cause_id: str, lang: str = "en", *, strict: bool | None = None, **values: Any) -> str:
    """The one-line summary of a finding, e.g. ``vnet0 is DOWN on netns:lab-host``.

    An unknown cause id raises in strict mode; in production it renders as the id
    itself so the diagnosis still reports something.
    """
    strict = strict_default() if strict is None else strict
    try:
        cause = get_cause(cause_id)
    except UnknownCause:
        if strict:
            raise
        return cause_id
    return render_template(cause.summary_template(lang), values, strict=strict, where=f"cause {cause_id}: summary")
