"""The cause catalogue: every root cause vnetdoctor can name, loaded from ``data/causes.toml``.

A cause id (``firewall.guest_blocks``) is a public contract: it appears in
``diagnose --json``, in recorded sessions and in the docs. Everything the operator
reads about a cause lives in the data file, in English and Simplified Chinese: the
title, what is wrong and why it breaks ping, what proves it, a one-line summary
template, and the fixes: exact commands with their undo and an honest risk.

Fix commands are written as one command line over a fixed vocabulary of
placeholders (:data:`PLACEHOLDER_KINDS`). Values are data, never code: each template
is split into argv tokens once, with ``shlex.split``, when the catalogue loads, and a
value is then put into its token, never through a shell. A token that is exactly one
placeholder becomes exactly one argv element whatever the value holds (a firewall
rule's match, :class:`Words`, becomes several). A placeholder inside a larger token
(``oifname "{uplink}"``, ``<host mac='{mac}'/>``) is a value inside another language:
it is accepted only when it matches its kind's strict pattern. A value that is not
known, or not safe where it would go, makes the fix guidance: a
:class:`~.model.Fix` that names what is missing and that nothing runs or copies.

Rendering is strict in tests and forgiving in production: a diagnosis must never
crash because a rule forgot a variable, but a test must say which one (see
:func:`strict_default`).

The data is validated once, when first used; a broken catalogue fails loudly on
that first use (and in the tests) rather than halfway through a diagnosis.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shlex
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from vnetdoctor.probes.vocabulary import CAUSE_LAYERS

from .model import Fix
from .text import LAB_NAMES, Localized, char_width, t

# The only names a fix template (command, undo, note) may use, and the kind of value each
# holds: the kind decides how a value is checked before it goes into an argv. The engine
# fills them; data/causes.toml names each for the operator ([placeholder]).
PLACEHOLDER_KINDS: Mapping[str, str] = {
    "dev": "ifname", "bridge": "ifname", "port": "ifname", "iface": "ifname", "uplink": "ifname",
    "ip": "ip", "peer_ip": "ip", "gateway": "ip", "target": "ip", "resolver": "ip",
    "prefixlen": "prefixlen", "subnet": "cidr", "mac": "mac",
    "mtu": "int", "size": "int", "handle": "int", "tcp_port": "port",
    "value": "word", "sysctl": "sysctl", "family": "family",
    "table": "name", "chain": "name", "network": "name", "domain": "name", "service": "service",
    "rule": "words",
}
PLACEHOLDERS: frozenset[str] = frozenset(PLACEHOLDER_KINDS)
# Summaries may also say where (vantage or side), in which state, and the other party.
SUMMARY_PLACEHOLDERS: frozenset[str] = PLACEHOLDERS | {"where", "state", "other"}

RISKS: tuple[str, ...] = ("low", "medium", "high")
LAB_VALUES: tuple[str, ...] = tuple(LAB_NAMES)  # yes, libvirt, sim, no

# Characters that, outside quotes, make a shell do more than run one command. A fix is
# one argv, run without a shell: a template that reads like a pipeline or a chain is a
# mistake in the data.
_PUNCTUATION = "();<>|&"

# Programs that join their arguments with spaces and parse the result as one command
# line of their own language (nft does): every value in their argv is inside that
# language, so it must match its kind's strict pattern even as a token of its own.
JOINING_PROGRAMS: frozenset[str] = frozenset({"nft"})

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
    """Whether a missing placeholder raises (tests) or is let through (production: ``<name>``
    in prose, guidance for a fix).

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


Token = tuple[tuple[str, str | None], ...]  # (literal, placeholder) pieces of one argv element


@dataclass(frozen=True)
class ArgvTemplate:
    """A command template split into argv tokens once, at load (``shlex.split``).

    Each token is a run of (literal, placeholder) pieces; a token that is exactly one
    placeholder is filled with that value's whole argv element(s).
    """

    text: str
    tokens: tuple[Token, ...]

    @property
    def program(self) -> str:
        return self.tokens[0][0][0]

    def fill(self, values: Mapping[str, Any], *, strict: bool, where: str) -> tuple[tuple[str, ...], list[str]]:
        """(argv, names of the values that could not go in). Missing names raise in strict mode."""
        joined = self.program in JOINING_PROGRAMS
        argv: list[str] = []
        missing: list[str] = []
        for token in self.tokens:
            if len(token) == 1 and token[0][0] == "" and token[0][1] is not None:
                name = token[0][1]
                words = value_words(name, _value(values, name, self.text, strict, where), embedded=joined)
                if words is None:
                    missing.append(name)
                else:
                    argv.extend(words)
                continue
            out: list[str] = []
            for literal, name in token:
                out.append(literal)
                if name is None:
                    continue
                words = value_words(name, _value(values, name, self.text, strict, where), embedded=True)
                if words is None:
                    missing.append(name)
                else:
                    out.append(words[0])
            argv.append("".join(out))
        return tuple(argv), missing


def _value(values: Mapping[str, Any], name: str, template: str, strict: bool, where: str) -> Any:
    if name not in values:
        if strict:
            raise TemplateError(name, template, where)
        return None
    return values[name]


def compile_argv(template: str, where: str) -> ArgvTemplate:
    """Split a command template into argv tokens and check every placeholder in them."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise CatalogError(f"{where}: {template!r} does not split into words: {exc}") from exc
    if not words:
        raise CatalogError(f"{where}: empty command")
    tokens: list[Token] = []
    for word in words:
        try:
            pieces = [(literal, name) for literal, name, _spec, _conv in string.Formatter().parse(word)]
            placeholders_of(word)  # only plain {name} fields
        except ValueError as exc:
            raise CatalogError(f"{where}: {exc}") from exc
        names = [f for _, f in pieces if f is not None]
        unknown = sorted(set(names) - PLACEHOLDERS)
        if unknown:
            raise CatalogError(f"{where}: unknown placeholder(s) {unknown}")
        whole = len(pieces) == 1 and pieces[0][0] == "" and pieces[0][1] is not None
        for name in names:
            if PLACEHOLDER_KINDS[name] == "words" and not whole:
                raise CatalogError(f"{where}: {{{name}}} is several words: it must be an argv token of its own")
        tokens.append(tuple(pieces) if pieces else (("", None),))
    if tokens[0][0][1] is not None or len(tokens[0]) != 1:
        raise CatalogError(f"{where}: the program must be written out, not a placeholder: {template!r}")
    return ArgvTemplate(template, tuple(tokens))


@dataclass(frozen=True)
class FixTemplate:
    """One fix of a cause, before the engine fills in the names and addresses."""

    cause: str
    command: str
    undo: str
    risk: str
    note_text: Localized
    when: str = ""  # "key=value": the evidence under which this fix is the right one
    # command and undo split into argv tokens, once, when the template is made (at load)
    argv: ArgvTemplate = dataclasses.field(init=False, repr=False, compare=False)
    undo_argv: ArgvTemplate = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"cause {self.cause}: fix"
        object.__setattr__(self, "argv", compile_argv(self.command, f"{where}: command"))
        object.__setattr__(self, "undo_argv", compile_argv(self.undo, f"{where}: undo"))

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


# ------------------------------------------------------------------------------ values


@dataclass(frozen=True)
class Words:
    """A value that is several argv elements (a firewall rule's match), and how it reads.

    ``words`` come from the probe's structured row, split by the rules of the tool that
    printed it (:func:`vnetdoctor.probes.firewall_parse.rule_words`), never by a shell;
    ``None`` when the text could not be split safely, and a fix that needs it is then
    guidance. Summaries and notes show ``text``.
    """

    text: str
    words: tuple[str, ...] | None

    def __str__(self) -> str:
        return self.text


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_FAMILIES = frozenset({"ip", "ip6", "inet", "arp", "bridge", "netdev"})
# What a value of each kind may look like inside another language's text (an nft
# script, libvirt XML, a firewalld rich rule, a sysctl key=value). Interface names may
# hold ; $ ( ) > < | & \ ` ' " * ? and more: only plain names go inside other text.
_PLAIN: Mapping[str, re.Pattern[str]] = {
    "ifname": re.compile(r"[A-Za-z0-9_.-]{1,64}"),
    "name": re.compile(r"[A-Za-z_.][A-Za-z0-9_./-]{0,127}"),  # an nft identifier
    "word": re.compile(r"[A-Za-z0-9_.:/+-]{1,128}"),
    "service": re.compile(r"[A-Za-z0-9_.:@-]{1,256}"),
}
_SYSCTL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,255}")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _number(low: int, high: int):  # type: ignore[no-untyped-def]
    return lambda text: text.isascii() and text.isdigit() and low <= int(text) <= high


# Kinds whose values have one exact form: checked wherever they go.
_TYPED: Mapping[str, Any] = {
    "ip": _is_ip,
    "cidr": _is_cidr,
    "mac": lambda text: _MAC.fullmatch(text) is not None,
    "int": _number(0, 2**32 - 1),
    "port": _number(1, 65535),
    "prefixlen": _number(0, 128),
    "family": lambda text: text in _FAMILIES,
    "sysctl": lambda text: _SYSCTL.fullmatch(text) is not None,
}


def is_known(value: Any) -> bool:
    """Whether a template value says something (``None`` and ``""`` mean: not known)."""
    return value is not None and value != "" and not (isinstance(value, Words) and not value.text)


def value_words(name: str, value: Any, *, embedded: bool) -> tuple[str, ...] | None:
    """The argv element(s) ``value`` becomes as placeholder ``name``, or None when it
    cannot go there: not known, not of its kind, or not safe in the text around it.

    ``embedded``: the value is part of a larger token, or an argument of a program that
    parses its arguments as one line (:data:`JOINING_PROGRAMS`).
    """
    kind = PLACEHOLDER_KINDS[name]
    if not is_known(value):
        return None
    if kind == "words":
        if not isinstance(value, Words) or not value.words:
            return None  # a plain string would have to be split again: never
        if any(_CONTROL.search(w) for w in value.words):
            return None
        return value.words
    if isinstance(value, (Words, bool)) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if _CONTROL.search(text):
        return None
    typed = _TYPED.get(kind)
    if typed is not None:
        return (text,) if typed(text) else None
    if embedded:
        return (text,) if _PLAIN[kind].fullmatch(text) else None
    # One argv element of its own: anything but an option. A name starting with "-"
    # would be read as one by the program it is given to.
    return (text,) if not text.startswith("-") else None


# ------------------------------------------------------------------------------ loading


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


GUIDANCE_KEYS: Mapping[str, frozenset[str]] = {"needs": frozenset({"names"}), "recorded": frozenset({"command"})}


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
    if layer not in CAUSE_LAYERS:
        raise CatalogError(f"cause {cid}: layer {layer!r} is not one of {', '.join(CAUSE_LAYERS)}")
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
    """One fix as a :class:`~.model.Fix`: its argv as run on the machine concerned.

    ``where`` (the vantage the fix runs in) is copied into the Fix; the engine adds
    the ``ip netns exec`` prefix itself (:func:`.render.in_vantage`). A value that is
    not known or not safe where it goes makes the fix guidance, naming it in
    ``missing``; a placeholder nobody supplied at all raises in strict mode (see
    :func:`render_template`).
    """
    strict = strict_default() if strict is None else strict
    label = f"cause {template.cause}: fix {template.command!r}"
    argv, missing = template.argv.fill(values, strict=strict, where=label)
    undo_argv, undo_missing = template.undo_argv.fill(values, strict=strict, where=label)
    # The note is prose: a known value reads as it is; an unknown one by its name.
    prose = {k: (v if is_known(v) or k not in PLACEHOLDERS else f"<{value_label(k, lang)}>") for k, v in values.items()}
    note = render_template(template.note(lang), prose, strict=strict, where=label)
    lacking = tuple(dict.fromkeys(missing + undo_missing))
    if lacking:
        return Fix.guidance(lacking, risk=template.risk, where=where, note=note)
    return Fix.of(argv, undo_argv, risk=template.risk, where=where, note=note)


def render_fixes(cause_id: str, lang: str = "en", *, where: str = "", strict: bool | None = None, **values: Any) -> tuple[Fix, ...]:
    """Every fix of a cause, rendered (``when`` filtering is the caller's business)."""
    return tuple(render_fix(f, lang, where=where, strict=strict, **values) for f in get_cause(cause_id).fixes)


def value_label(name: str, lang: str = "en") -> str:
    """What a placeholder holds, for the operator (``interface name``); the name itself if unlabelled."""
    label = _fix_words().labels.get(name)
    return t(label, lang) if label is not None else name


def guidance_text(fix: Fix, lang: str = "en") -> str:
    """The line that stands where a guidance fix's command would: what it needs.

    Empty for a runnable fix. A fix recorded before fixes were argv is shown as it was
    recorded, and said to be unchecked.
    """
    if fix.runnable:
        return ""
    words = _fix_words()
    if fix.missing or not fix.command:
        sep = "、" if lang == "zh" else ", "
        names = sep.join(value_label(m, lang) for m in fix.missing) or "?"
        return t(words.guidance["needs"], lang).format(names=names)
    return t(words.guidance["recorded"], lang).format(command=fix.command)


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
