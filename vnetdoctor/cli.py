"""The ``vnetdoctor`` console script: argument parsing and dispatch only.

Each command lives in its own module under ``vnetdoctor.commands`` and is imported
only when chosen, so ``vnetdoctor --help`` and start-up stay fast (scapy, libvirt
and Textual are never imported here). Every failure the operator can cause ends
as one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming what was wrong."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="session database (default: $XDG_DATA_HOME/vnetdoctor/sessions.db)")


def _add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("en", "zh"), help="language of the text (default from LANG)")


def _add_ascii(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ascii", action="store_true",
                   help="draw marks as [ok] [X] [!] [?] [-] (automatic when TERM=linux)")


def _add_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", metavar="IP", help="the address that does not answer")
    p.add_argument(
        "--from", dest="from_side", choices=("host", "guest"), default="host",
        help="which side sends the probes to the target (default: host)",
    )
    p.add_argument("--host", metavar="VANTAGE", default="local", help="where the host side runs: local, netns:NAME (default: local)")
    p.add_argument("--guest", metavar="VANTAGE", help="the guest side: netns:NAME or libvirt:DOMAIN[@URI]")
    # Checked by the session's request parser with the other target options (one validator).
    p.add_argument("--port", metavar="N", help="also check this TCP port on the target")
    p.add_argument("--no-record", action="store_true", help="keep nothing of this run")
    p.add_argument("--trace-rules", action="store_true",
                   help="after a firewall drop, add a temporary nftables trace table to name the exact rule")
    _add_db(p)
    _add_lang(p)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vnetdoctor", description="Why can't the VM and its host ping each other?")
    parser.add_argument("-V", "--version", action="version", version=f"vnetdoctor {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("tui", help="the full-screen assistant (the default)")
    _add_target(p)
    p.add_argument("--allow-changes", action="store_true", help="offer to apply fixes (always asks first)")
    _add_ascii(p)
    p.add_argument("--connect", metavar="URI",
                   help="libvirt connection for discovery (default: LIBVIRT_DEFAULT_URI, then qemu:///system)")

    p = sub.add_parser("diagnose", help="walk the flowchart without the TUI")
    _add_target(p)
    p.add_argument("--json", action="store_true", help="print one JSON document (schema vnetdoctor.diagnosis/1)")
    p.add_argument("--interactive", action="store_true", help="ask the operator the questions no probe can answer")

    p = sub.add_parser("lab", help="the fault lab in network namespaces (root)")
    lab = p.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=_Parser, required=True)
    lp = lab.add_parser("list", help="scenarios and the cause each injects")
    lp.add_argument("--json", action="store_true", help="one JSON document (schema vnetdoctor.lab-scenarios/1)")
    _add_lang(lp)
    lp = lab.add_parser("up", help="build a scenario and inject its fault")
    lp.add_argument("scenario", help="a name from `vnetdoctor lab list`")
    lp.add_argument("--prefix", default="vnd-", help="name prefix of everything created (default vnd-)")
    lp = lab.add_parser("down", help="remove everything with the prefix")
    lp.add_argument("--prefix", default="vnd-", help="name prefix of the lab to remove (default vnd-)")

    p = sub.add_parser("demo", help="bring up a lab scenario and open the assistant on it")
    p.add_argument("scenario", nargs="?", default=None, help="scenario name (default: a guest firewall dropping ping)")
    p.add_argument("--prefix", default="vnd-", help="name prefix of the lab it builds (default vnd-)")
    p.add_argument("--no-tui", action="store_true", help="print the diagnosis instead of opening the TUI")
    p.add_argument("--allow-changes", action="store_true", help="offer to apply fixes (always asks first)")
    _add_ascii(p)
    p.add_argument("--trace-rules", action="store_true",
                   help="after a firewall drop, add a temporary nftables trace table to name the exact rule")
    _add_db(p)
    _add_lang(p)

    p = sub.add_parser("sessions", help="recorded sessions: a screen to replay, export and compare them "
                                        "on a terminal, a table in a pipe")
    p.add_argument("--search", metavar="TEXT",
                   help="sessions matching TEXT, best first: causes, target and vantages, scenario, "
                        "the operator's notes and answers, then step notes; each says why it matched")
    p.add_argument("--limit", metavar="N", type=_positive_int, default=50,
                   help="list at most N sessions (default 50); a cut list says so on stderr")
    p.add_argument("--all", action="store_true", help="list every session")
    p.add_argument("--json", action="store_true", help="one JSON list instead of the table")
    p.add_argument("--table", action="store_true", help="print the table even on a terminal (no screen)")
    _add_db(p)
    _add_lang(p)

    p = sub.add_parser("replay", help="open a recorded session in the TUI, read-only")
    p.add_argument("session", nargs="?", help="session id or a unique prefix of one (default: the newest)")
    _add_ascii(p)
    _add_db(p)
    _add_lang(p)

    p = sub.add_parser("export", help="a report, the raw record, or the captured packets")
    p.add_argument("session", help="session id or a unique prefix of one")
    p.add_argument("--format", choices=("md", "json", "pcapng", "pcap"), default="md",
                   help="md: a report for a ticket; json: the whole record; pcapng: the captured "
                        "packets, one named interface per capture point (host:br0, guest:eth0); "
                        "pcap: the same as classic pcap, without interface names")
    p.add_argument("--redact", action="store_true",
                   help="rename addresses, MACs and host, domain, network, namespace and interface names")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--force", action="store_true",
                   help="replace FILE if it exists (without --force an existing FILE is left alone: exit 2)")
    _add_db(p)
    _add_lang(p)

    p = sub.add_parser("diff", help="what changed between two sessions")
    p.add_argument("session_a", help="the session before (id or unique prefix)")
    p.add_argument("session_b", help="the session after")
    p.add_argument("--json", action="store_true", help="one JSON document (schema vnetdoctor.diff/1)")
    _add_db(p)
    _add_lang(p)

    p = sub.add_parser("causes", help="the cause catalogue")
    p.add_argument("cause", nargs="?", metavar="ID",
                   help="one cause in full: why ping breaks, what proves it, the fixes (an id or a unique prefix)")
    p.add_argument("--json", action="store_true", help="one JSON document instead of the text")
    _add_lang(p)

    p = sub.add_parser("bench", help="measure probe speed against iproute2 (root)")
    p.add_argument("what", nargs="?", choices=("netlink", "diagnose", "tui", "records", "all"), default="netlink",
                   help="which figures (default netlink)")
    p.add_argument("--quick", action="store_true", help="smaller tables, for a smoke run")
    p.add_argument("--prefix", default=None, metavar="PFX-",
                   help="name prefix of the lab namespaces bench diagnose builds (default vnd-bd-)")
    return parser


def _version() -> str:
    from vnetdoctor import __version__

    return __version__


# command name -> module under vnetdoctor.commands exposing run(args) -> int
_COMMANDS = {
    "tui": "tui",
    "diagnose": "diagnose",
    "lab": "lab",
    "demo": "demo",
    "sessions": "sessions",
    "replay": "replay",
    "export": "export",
    "diff": "diff",
    "causes": "causes",
    "bench": "bench",
}


def _in_lang(exc: Exception, args: argparse.Namespace) -> str:
    """An error made as a phrase (the store's "no session 'x'"), said in the command's --lang.

    By name, as the commands are loaded: the command has loaded the translator already,
    and a static import would tie this light start module to everything it imports.
    """
    text = importlib.import_module("vnetdoctor.knowledge.text")
    return str(text.error_text(exc, text.choose_lang(getattr(args, "lang", None))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "help":  # `vnetdoctor help [COMMAND]` is `vnetdoctor [COMMAND] --help`
        if argv[1:] == ["help"]:
            argv = ["help"]  # `help help`: the overview, as `help` alone
        if len(argv) > 2 or (len(argv) == 2 and argv[1] not in _COMMANDS):
            parser.error(f"help takes one command name, one of: {', '.join(_COMMANDS)}")
        argv = [*argv[1:], "--help"]
    # `vnetdoctor --target IP …` is `vnetdoctor tui --target IP …` (cli.md: the TUI is the default).
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "-V", "--version"):
        argv = ["tui", *argv]
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["tui"])
    if getattr(args, "ascii", False):
        # Read by vnetdoctor.tui.glyphs at each lookup, in every screen and worker.
        os.environ["VNETDOCTOR_ASCII"] = "1"
    module = importlib.import_module(f"vnetdoctor.commands.{_COMMANDS[args.command]}")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("vnetdoctor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `vnetdoctor … | head`: the reader left; end quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        from vnetdoctor.probes.errors import UsageError
        from vnetdoctor.probes.vantage import VantageError

        if os.environ.get("VNETDOCTOR_DEBUG"):
            raise
        if isinstance(exc, (UsageError, VantageError)):
            print(f"vnetdoctor {args.command}: {_in_lang(exc, args)}", file=sys.stderr)
        else:
            print(
                f"vnetdoctor {args.command}: {type(exc).__name__}: {exc} "
                "(set VNETDOCTOR_DEBUG=1 for the traceback)",
                file=sys.stderr,
            )
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
