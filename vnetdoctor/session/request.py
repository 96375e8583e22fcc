"""The one parser and validator of a request: text fields in, a Request or one field's complaint out.

Every entry point asks here: ``diagnose``, ``tui``, ``demo``, the Start screen and
the lab (whose scenarios yield a :class:`Request` that :func:`check_request`
validates like any other). A complaint is a :class:`RequestError` keyed by the
Request's field (``target``, ``port``, ``from_side``, ``host``, ``guest``) with a
ui.toml key, so the command line turns it into one line naming its flag
(:data:`FLAGS`) and the Start screen puts it next to its field, in the operator's
language. No Textual here: the rules are unit-tested directly.
"""

from __future__ import annotations

import ipaddress
import dataclasses
from dataclasses import dataclass
from typing import Any

from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.target_kind import classify, message, not_a_host
from vnetdoctor.knowledge.text import error_text
from vnetdoctor.probes.vantage import LOCAL, Vantage, VantageError, check_vantage, parse_vantage

# The command-line flag of each field, for the one-line error of the CLI.
FLAGS = {"target": "--target", "port": "--port", "from_side": "--from", "host": "--host", "guest": "--guest"}
SIDES = ("host", "guest")


@dataclass(eq=False)
class RequestError(Exception):
    """One problem with one field; ``key`` is a ui.toml key, ``fmt`` its arguments."""

    field: str
    key: str
    fmt: dict[str, Any] = dataclasses.field(default_factory=dict)  # `field` is the attribute above
    value: str = ""  # the field's text as given (the CLI line starts with it when the message does)

    def __str__(self) -> str:
        return f"{self.field}: {self.key} {self.fmt}"


def parse_target(text: str | None, lang: str = "en") -> str | None:
    """An IPv4 address in canonical form, None for an empty field.

    An address that is no host's (broadcast, multicast, loopback, unspecified) is
    refused here by kind, as the field is typed; the sender's subnet edges are
    checked by :func:`check_request`, which knows the vantages.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise RequestError("target", "form.bad_address", {"value": text}, text) from None
    wrong = classify(addr)
    if wrong is not None:
        raise RequestError("target", "form.not_a_host", {"reason": message(wrong, lang)}, text)
    if addr.version != 4:
        raise RequestError("target", "form.ipv6", {"value": text}, text)
    return str(addr)


def parse_port(text: str | int | None) -> int | None:
    text = str(text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise RequestError("port", "form.bad_port", {"value": text}, text)
    value = int(text)
    if not 1 <= value <= 65535:
        raise RequestError("port", "form.port_range", {"value": value}, text)
    return value


def parse_side(text: str | None, field_name: str, lang: str = "en") -> Vantage | None:
    """A vantage as typed (``local``, ``netns:NAME``, ``libvirt:DOMAIN[@URI]``), None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_vantage(text)
    except VantageError as exc:
        raise RequestError(field_name, "form.bad_vantage", {"reason": error_text(exc, lang)}, text) from None


def parse_request(
    *,
    target: str | None = "",
    port: str | int | None = "",
    from_side: str | None = "host",
    host: str | None = "local",
    guest: str | None = "",
    lang: str = "en",
    connect: bool = False,
    trace_rules: bool = False,
) -> Request:
    """The request the fields describe, or the first :class:`RequestError` (in field order).

    ``connect``: also ask libvirt whether a ``libvirt:`` guest exists (the command
    line does; the Start screen leaves it to the walk's platform step, as a libvirt
    connection may block and the form is checked on the UI thread).
    """
    addr = parse_target(target, lang)
    port_no = parse_port(port)
    side = (from_side or "host").strip()
    if side not in SIDES:
        raise RequestError("from_side", "form.bad_side", {"value": side}, side)
    request = Request(
        target=addr,
        host=parse_side(host or "local", "host", lang) or LOCAL,
        guest=parse_side(guest, "guest", lang),
        from_side=side,
        port=port_no,
        lang=lang,
        trace_rules=trace_rules,
    )
    return check_request(request, connect=connect)


def check_request(request: Request, *, connect: bool = False) -> Request:
    """The rules a whole request must meet, whoever built it (a parser, a lab scenario).

    The vantages must exist here, the host side must not be a libvirt domain, the
    sender needs its side, and the target must be a host on the sender's subnets
    (read before any packet is sent). Returns ``request`` unchanged.
    """
    for name in ("host", "guest"):
        vantage = getattr(request, name)
        if vantage is None:
            continue
        try:
            check_vantage(vantage)
        except VantageError as exc:
            raise RequestError(name, "form.bad_vantage", {"reason": error_text(exc, request.lang)},
                               str(vantage)) from None
    if request.host.kind == "libvirt":
        raise RequestError("host", "form.host_libvirt", {}, str(request.host))
    if connect and request.guest is not None and request.guest.kind == "libvirt":
        problem = _domain_problem(request.guest)
        if problem:
            raise RequestError("guest", "form.bad_vantage", {"reason": problem}, str(request.guest))
    if request.from_side == "guest" and request.guest is None:
        raise RequestError("guest", "form.need_guest", {})
    if request.target is not None:
        senders = (request.host, request.guest) if request.from_side == "guest" else (request.host,)
        wrong = not_a_host(request.target, senders)
        if wrong is not None:
            raise RequestError("target", "form.not_a_host", {"reason": message(wrong, request.lang)},
                               request.target)
    elif request.from_side == "guest" and not (request.guest is not None and request.guest.kind == "libvirt"):
        # A libvirt guest's network names the host's address on it (knowledge.discovery.host_address),
        # so the walk finds what the guest pings; any other guest needs to be told.
        raise RequestError("target", "form.need_address_from_guest", {})
    elif request.guest is None:
        raise RequestError("target", "form.need_address", {})
    return request


def _domain_problem(guest: Vantage) -> str | None:
    """What libvirt says is wrong with the domain (unknown, URI unreachable), or None."""
    from vnetdoctor.probes.libvirt_check import check_domain  # libvirt-python itself loads lazily

    return check_domain(guest)


def cli_line(err: RequestError, text: str) -> str:
    """The command line's one line: the flag, then the message (``text``, already translated).

    A message that begins with the value as given reads as a sentence about the flag
    (``--target 198.18.0.255 is the broadcast address …``); any other is introduced
    by the flag and a colon (``--port: port 70000 is outside 1-65535``).
    """
    flag = FLAGS.get(err.field, err.field)
    if err.value and text.startswith(err.value):
        return f"{flag} {text}"
    return f"{flag}: {text}"
