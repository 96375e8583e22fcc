"""``vnetdoctor diagnose``: the whole walk without the TUI, for scripts and fleets.

Exit status (cli.md): 0 reachable and no cause; 1 at least one cause named;
3 unreachable but no cause identified; 2 bad input or the tool could not run.

Without root it still runs: every probe that needs no privilege runs, the others
are reported as skipped with the capability they need (CAP_NET_RAW for the pings,
CAP_NET_ADMIN for firewall rules, CAP_SYS_ADMIN to enter a ``netns:`` vantage),
and a walk that this leaves unexplained ends inconclusive (3), never with a cause
or a pass it did not observe.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from typing import Any

from vnetdoctor.probes.errors import UsageError
from vnetdoctor.knowledge.model import Diagnosis, Question, Request
from vnetdoctor.knowledge.target_kind import message, not_a_host
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
        # Before any packet: broadcast, multicast, loopback, … and the sender's subnet edges.
        senders = (host, guest) if args.from_side == "guest" else (host,)
        wrong = not_a_host(str(addr), senders)
        if wrong is not None:
            raise UsageError(f"--target {message(wrong, lang)}")
        if addr.version != 4:
            raise UsageError(f"--target {target}: only IPv4 is diagnosed so far")
        target = str(addr)
    if args.from_side == "guest" and guest is None:
        raise UsageError("--from guest needs --guest VANTAGE (netns:NAME or libvirt:DOMAIN)")
    if target is None and guest is None:
        raise UsageError("give --target IP, or --guest VANTAGE so the guest's address can be found")
    return Request(target=target, host=host, guest=guest, from_side=args.from_side, port=args.port, lang=lang)


def _check_domain(guest: Vantage) -> None:
    from vnetdoctor.probes.libvirt import check_domain

    problem = check_domain(guest)
    if problem:
        raise UsageError(problem)


def exit_status(d: Diagnosis) -> int:
    """The exit status of cli.md, derived from the one verdict the report and JSON show."""
    return d.verdict.exit_status


def ask_on_terminal(q: Question) -> str:
    """--interactive: ask on stderr, read stdin; anything unexpected counts as unknown."""
    sys.stderr.write(f"\n? {q.text} [{'/'.join(q.choices)}] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer if answer in q.choices else "unknown"


def open_store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The session store, or None with --no-record or when it stayed busy (said on stderr)."""
    if getattr(args, "no_record", False):
        return None
    from vnetdoctor.store import SessionStore, StoreBusy

    try:
        return SessionStore(args.db)
    except StoreBusy as exc:
        print(f"vnetdoctor diagnose: not recording this session: {exc}", file=sys.stderr)
        return None


class Recording:
    """diagnose's writes: a database kept busy by others costs the record, never the diagnosis.

    Each write already waits for the lock and retries (see ``SessionStore._write``).
    When even that fails, the steps are not tried one by one again (each would wait
    as long): ``finish_session`` records every step it does not find, so the whole
    session is written at the end in one transaction, or reported as not recorded.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.session_id: str | None = None
        self.deferred = False

    def start(self, request: Request) -> None:
        from vnetdoctor.store import StoreBusy

        if self.store is None:
            return
        try:
            self.session_id = self.store.start_session(request, source="diagnose")
        except StoreBusy:
            self.deferred = True

    def step(self, result: Any) -> None:
        from vnetdoctor.store import StoreBusy

        if self.store is None or self.deferred or self.session_id is None:
            return
        try:
            self.store.record_step(self.session_id, result)
        except StoreBusy:
            self.deferred = True

    def finish(self, request: Request, diagnosis: Diagnosis) -> str | None:
        """Write the verdict (and whatever was deferred); the session id, or None if nothing was kept."""
        from vnetdoctor.store import StoreBusy

        if self.store is None:
            return None
        try:
            if self.session_id is None:
                self.session_id = self.store.start_session(request, source="diagnose")
            self.store.finish_session(self.session_id, diagnosis)
        except StoreBusy as exc:
            what = f"session {self.session_id} not fully recorded" if self.session_id else "session not recorded"
            print(f"vnetdoctor diagnose: {what}: {exc}", file=sys.stderr)
        return self.session_id


def run(args: argparse.Namespace) -> int:
    from vnetdoctor.knowledge.engine import Engine
    from vnetdoctor.knowledge.events import StepFinished

    request = build_request(args)
    recording = Recording(open_store(args))
    recording.start(request)

    def on_event(event: object) -> None:
        if isinstance(event, StepFinished):
            recording.step(event.result)

    engine = Engine(request, ask=ask_on_terminal if args.interactive else None, on_event=on_event)
    diagnosis = engine.run()
    session_id = recording.finish(request, diagnosis)
    if args.json:
        json.dump(diagnosis.to_json(session_id), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        from vnetdoctor.console_report import print_report

        print_report(diagnosis, session_id, request.lang)
    return exit_status(diagnosis)
