"""``vnetdoctor diagnose``: the whole walk without the TUI, for scripts and fleets.

Exit status (cli.md): 0 reachable and no cause; 1 at least one cause named;
3 unreachable but no cause identified; 2 bad input or the tool could not run.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys

from vnetdoctor.errors import UsageError
from vnetdoctor.knowledge.model import Diagnosis, Question, Request
from vnetdoctor.probes.caps import CAP_NET_RAW, CAP_SYS_ADMIN, has_cap
from vnetdoctor.probes.vantage import Vantage, resolve_vantage


def build_request(args: argparse.Namespace) -> Request:
    """Validate the target options into a Request; every problem is one UsageError line."""
    from vnetdoctor.knowledge.text import choose_lang

    lang = choose_lang(getattr(args, "lang", None))
    host = resolve_vantage(args.host or "local")
    if host.kind == "libvirt":
        raise UsageError("--host must be local or netns:NAME (a libvirt domain is a guest: use --guest)")
    guest = resolve_vantage(args.guest) if args.guest else None
    if guest is not None and guest.kind == "libvirt":
        _check_domain(guest)
    target = args.target
    if target is not None:
        try:
            addr = ipaddress.ip_address(target)
        except ValueError:
            raise UsageError(f"--target {target!r} is not an IP address") from None
        if addr.version != 4:
            raise UsageError(f"--target {target}: only IPv4 is diagnosed so far")
        target = str(addr)
    if args.from_side == "guest" and guest is None:
        raise UsageError("--from guest needs --guest VANTAGE (netns:NAME or libvirt:DOMAIN)")
    if target is None and guest is None:
        raise UsageError("give --target IP, or --guest VANTAGE so the guest's address can be found")
    if not has_cap(CAP_NET_RAW):
        raise UsageError("needs root: CAP_NET_RAW to send probe packets (run it with sudo)")
    if any(v is not None and v.kind == "netns" for v in (host, guest)) and not has_cap(CAP_SYS_ADMIN):
        raise UsageError("needs root: CAP_SYS_ADMIN to enter network namespaces (run it with sudo)")
    return Request(target=target, host=host, guest=guest, from_side=args.from_side, port=args.port, lang=lang)


def _check_domain(guest: Vantage) -> None:
    try:
        from vnetdoctor.probes import libvirt as lv
    except ImportError:
        return
    checker = getattr(lv, "check_domain", None)
    if checker is not None:
        problem = checker(guest)
        if problem:
            raise UsageError(problem)


def exit_status(d: Diagnosis) -> int:
    if d.causes:
        return 1
    if d.reachable:
        return 0
    return 3


def ask_on_terminal(q: Question) -> str:
    """--interactive: ask on stderr, read stdin; anything unexpected counts as unknown."""
    sys.stderr.write(f"\n? {q.text} [{'/'.join(q.choices)}] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer if answer in q.choices else "unknown"


def open_store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if getattr(args, "no_record", False):
        return None
    from vnetdoctor.store import SessionStore

    return SessionStore(args.db)


def run(args: argparse.Namespace) -> int:
    from vnetdoctor.knowledge.engine import Engine
    from vnetdoctor.knowledge.events import StepFinished

    request = build_request(args)
    store = open_store(args)
    session_id = store.start_session(request, source="diagnose") if store is not None else None

    def on_event(event: object) -> None:
        if store is not None and isinstance(event, StepFinished):
            store.record_step(session_id, event.result)

    engine = Engine(request, ask=ask_on_terminal if args.interactive else None, on_event=on_event)
    diagnosis = engine.run()
    if store is not None:
        store.finish_session(session_id, diagnosis)
    if args.json:
        json.dump(diagnosis.to_json(session_id), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        from vnetdoctor.console_report import print_report

        print_report(diagnosis, session_id, request.lang)
    return exit_status(diagnosis)
