"""Fix and summary templates: the placeholder vocabulary, argv templates and value checks.

Split out of :mod:`.catalog` because this is the security-relevant part (a value goes
into one argv element, never through a shell, and only when its kind's strict pattern
accepts it) and deserves to be read on its own, apart from loading the data file.
Nothing here reads ``causes.toml``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shlex
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .templates import TemplateError, placeholders_of, render_template, strict_default
from .text import LAB_NAMES, Localized, t

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
# `undo = "none"`: no command undoes this fix (the note must say what brings the old state
# back, e.g. the domain's next start re-applies its nwfilter). Rendered as no undo argv.
NO_UNDO = "none"
LAB_VALUES: tuple[str, ...] = tuple(LAB_NAMES)  # yes, libvirt, sim, no

# Characters that, outside quotes, make a shell do more than run one command. A fix is
# one argv, run without a shell: a template that reads like a pipeline or a chain is a
# mistake in the data.
_PUNCTUATION = "();<>|&"

# Programs that join their arguments with spaces and parse the result as one command
# line of their own language (nft does): every value in their argv is inside that
# language, so it must match its kind's strict pattern even as a token of its own.
JOINING_PROGRAMS: frozenset[str] = frozenset({"nft", "powershell.exe"})  # -Command joins its arguments

class CatalogError(ValueError):
    """The data file is malformed; the message names the cause and the field."""


class UnknownCause(KeyError):
    """No cause with this id in the catalogue."""

    def __str__(self) -> str:  # KeyError would print the repr of the id only
        return f"unknown cause id {self.args[0]!r}"


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
            for literal, field in token:
                out.append(literal)
                if field is None:
                    continue
                words = value_words(field, _value(values, field, self.text, strict, where), embedded=True)
                if words is None:
                    missing.append(field)
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


def _number(low: int, high: int) -> Callable[[str], bool]:
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


