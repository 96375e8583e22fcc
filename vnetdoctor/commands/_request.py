"""The target options of ``diagnose``, ``tui`` and ``demo`` into a Request, through the session's one parser.

A :class:`~vnetdoctor.session.request.RequestError` becomes one line naming the
flag (exit status 2, via :class:`UsageError`). A problem that is about several
flags at once has a line of its own in ui.toml (``KEY_cli``); every other one is
the Start screen's message after the flag.
"""

from __future__ import annotations

import argparse

from vnetdoctor.knowledge.model import Request
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.session.request import RequestError, cli_line, parse_request


def usage_error(err: RequestError, lang: str) -> UsageError:
    from vnetdoctor.knowledge.text import tr
    from vnetdoctor.knowledge.text_data import texts

    whole = f"{err.key}_cli"
    if whole in texts():
        return UsageError(tr(whole, lang, **err.fmt))
    return UsageError(cli_line(err, tr(err.key, lang, **err.fmt)))


def request_from_args(args: argparse.Namespace, lang: str, *, connect: bool, optional: bool = False) -> Request | None:
    """The request the options describe.

    ``optional`` (``tui``): no ``--target`` and no ``--guest`` is no request (the
    Start screen picks one), not an error. ``connect``: ask libvirt whether a
    ``libvirt:`` guest exists before anything runs (``diagnose``).
    """
    from_side = getattr(args, "from_side", "host") or "host"
    trace_rules = bool(getattr(args, "trace_rules", False))
    if optional and not args.target and not args.guest and from_side == "host":
        if trace_rules:
            from vnetdoctor.knowledge.text import tr

            raise UsageError(tr("args.trace_rules_alone", lang))
        return None
    try:
        return parse_request(
            target=args.target or "",
            port=args.port or "",
            from_side=from_side,
            host=args.host or "local",
            guest=args.guest or "",
            lang=lang,
            connect=connect,
            trace_rules=trace_rules,
        )
    except RequestError as err:
        raise usage_error(err, lang) from None


def checked(request: Request, lang: str) -> Request:
    """A request built from values (a lab scenario) through the same rules, as a one-line error."""
    from vnetdoctor.session.request import check_request

    try:
        return check_request(request)
    except RequestError as err:
        raise usage_error(err, lang) from None
