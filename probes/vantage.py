"""Where a probe runs: this host, a named network namespace, or a libvirt guest.

The same probe code serves every vantage the operation allows, so that the host
end and the guest end of a broken path can be examined with one set of rules.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

NETNS_DIR = "/run/netns"
_NETNS_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

VantageKind = Literal["local", "netns", "libvirt"]


class VantageError(ValueError):
    """A vantage string that cannot be used: one line for the operator.

    ``key`` (when given) names the text in knowledge/data/cli.toml ``[vantage]`` and ``values`` fill
    it, so the command line and the Start screen say it in the operator's language
    (this floor cannot reach the translator); ``str()`` is the English line, for logs.
    """

    def __init__(self, english: str, key: str = "", **values: str) -> None:
        super().__init__(english)
        self.key = key  # "": no text of its own (a libvirt error's words are a fact, said as they are)
        self.values = values


_KINDS = "local, netns:NAME or libvirt:DOMAIN[@URI]"


@dataclass(frozen=True)
class Vantage:
    kind: VantageKind
    name: str = ""
    uri: str | None = None

    def __str__(self) -> str:
        if self.kind == "local":
            return "local"
        if self.kind == "netns":
            return f"netns:{self.name}"
        return f"libvirt:{self.name}" + (f"@{self.uri}" if self.uri else "")

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @property
    def netns_path(self) -> str | None:
        return os.path.join(NETNS_DIR, self.name) if self.kind == "netns" else None


LOCAL = Vantage("local")


def parse_vantage(text: str) -> Vantage:
    """Parse ``local``, ``netns:NAME`` or ``libvirt:DOMAIN[@URI]`` (syntax only)."""
    text = (text or "").strip()
    if text == "local":
        return LOCAL
    kind, sep, rest = text.partition(":")
    if not sep:
        raise VantageError(f"bad vantage {text!r}: expected {_KINDS}", "vantage.no_kind", text=repr(text))
    if kind == "netns":
        if not _NETNS_NAME.match(rest) or rest in (".", ".."):
            raise VantageError(f"bad vantage {text!r}: {rest!r} is not a valid namespace name",
                               "vantage.bad_netns", text=repr(text), name=repr(rest))
        return Vantage("netns", rest)
    if kind == "libvirt":
        # Domain names cannot hold '@' in practice, URIs can (qemu+ssh://user@host/system).
        domain, _, uri = rest.partition("@")
        if not domain:
            raise VantageError(f"bad vantage {text!r}: no domain name after 'libvirt:'", "vantage.no_domain",
                               text=repr(text))
        if _ and not uri:
            raise VantageError(f"bad vantage {text!r}: empty libvirt URI after '@'", "vantage.empty_uri",
                               text=repr(text))
        return Vantage("libvirt", domain, uri or None)
    raise VantageError(f"bad vantage {text!r}: unknown kind {kind!r} (use {_KINDS})", "vantage.unknown_kind",
                       text=repr(text), kind=repr(kind))


def check_vantage(vantage: Vantage) -> Vantage:
    """Raise :class:`VantageError` when the vantage does not exist on this machine.

    libvirt domains are checked by the libvirt probes (they need a connection).
    """
    if vantage.kind == "netns":
        path = vantage.netns_path
        assert path is not None
        if not os.path.exists(path):
            raise VantageError(f"unknown network namespace {vantage.name!r} (not in {NETNS_DIR})",
                               "vantage.unknown_netns", name=repr(vantage.name), dir=NETNS_DIR)
    return vantage


def resolve_vantage(text: str) -> Vantage:
    """Parse and check in one step: what the command line uses."""
    return check_vantage(parse_vantage(text))
