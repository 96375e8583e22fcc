"""The Start screen's form as plain validation: fields in, a Request or a precise complaint out.

Kept free of Textual so the rules are unit-tested directly and shared by the
``tui`` command line (``--target`` etc.), which must refuse the same inputs with
the same words. A complaint names the field and an i18n key, so the screen can
put the message next to the field in the operator's language.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.target_kind import classify, message, not_a_host
from vnetdoctor.probes.vantage import Vantage, VantageError, check_vantage, parse_vantage

# The three directions the Start screen offers: (from_side, what the address is).
DIRECTIONS = {
    "host_to_guest": "host",
    "guest_to_host": "guest",
    "guest_to_outside": "guest",
}


@dataclass(eq=False)
class FormError(Exception):
    """One problem with one field; ``key`` is a ui.toml key, ``fmt`` its arguments."""

    field: str
    key: str
    fmt: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.field}: {self.key} {self.fmt}"


def parse_address(text: str, field_name: str = "address", lang: str = "en") -> str | None:
    """An IPv4 address in canonical form, None for an empty field.

    An address that is no host's (broadcast, multicast, loopback, unspecified) is
    refused here by kind, as the field is typed; the sender's subnet edges are
    checked by :func:`build_request`, which knows the vantages.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise FormError(field_name, "form.bad_address", {"value": text}) from None
    wrong = classify(addr)
    if wrong is not None:
        raise FormError(field_name, "form.not_a_host", {"reason": message(wrong, lang)})
    if addr.version != 4:
        raise FormError(field_name, "form.ipv6", {"value": text})
    return str(addr)


def parse_port(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise FormError("port", "form.bad_port", {"value": text})
    value = int(text)
    if not 1 <= value <= 65535:
        raise FormError("port", "form.port_range", {"value": value})
    return value


def parse_side(text: str, field_name: str, *, allow_libvirt: bool) -> Vantage | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        vantage = check_vantage(parse_vantage(text))
    except VantageError as exc:
        raise FormError(field_name, "form.bad_vantage", {"reason": str(exc)}) from None
    if vantage.kind == "libvirt" and not allow_libvirt:
        raise FormError(field_name, "form.host_libvirt", {})
    return vantage


def build_request(
    *,
    address: str,
    port: str = "",
    direction: str = "host_to_guest",
    host: str = "local",
    guest: str = "",
    lang: str = "en",
) -> Request:
    """The request the fields describe, or the first FormError (in field order)."""
    target = parse_address(address, lang=lang)
    port_no = parse_port(port)
    host_v = parse_side(host or "local", "host", allow_libvirt=False) or parse_vantage("local")
    guest_v = parse_side(guest, "guest", allow_libvirt=True)
    from_side = DIRECTIONS.get(direction, "host")
    if target is not None:
        # The same rule as ``diagnose``: the sender's subnets, read before any packet is sent.
        wrong = not_a_host(target, (host_v, guest_v) if from_side == "guest" else (host_v,))
        if wrong is not None:
            raise FormError("address", "form.not_a_host", {"reason": message(wrong, lang)})
    if from_side == "guest" and guest_v is None:
        raise FormError("guest", "form.need_guest", {})
    if target is None:
        if from_side == "guest":
            raise FormError("address", "form.need_address_from_guest", {})
        if guest_v is None:
            raise FormError("address", "form.need_address", {})
    return Request(target=target, host=host_v, guest=guest_v, from_side=from_side, port=port_no, lang=lang)
