"""The ``vnetdoctor`` console script: argument parsing and dispatch only.

Each command lives in its own module under ``vnetdoctor.commands`` and is imported
only when chosen, so ``vnetdoctor --help`` and start-up stay fast (scapy, libvirt
and Textual are never imported here). Every failure the operator can cause ends
as one line on stderr and exit status 2, never a traceback.

Every word it prints is in the operator's language, ``--help`` and argparse's own
messages included: the language is read from argv (``--lang``, anywhere on the line)
or the locale before the parsers are built (:func:`scan_lang`, :func:`argparse_words`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence

EXIT_USAGE = 2


def _text():  # type: ignore[no-untyped-def]
    """The one translator, by name: a static import would tie this light start module to
    everything the translator may import lazily (import-linter follows those imports)."""
    return importlib.import_module("vnetdoctor.knowledge.text")


def tr(key: str, lang: str = "en", /, **values: object) -> str:
    return str(_text().tr(key, lang, **values))


def _own(text: str, lang: str) -> str:
    """``text`` said in ``lang`` when it is a key of knowledge/data/cli.toml (the parsers'
    help texts are keys), else as it is (argparse's own words, already said).

    Read from that file alone, and only when help is printed: every run builds the
    parsers, and loading the message files for that would slow down every command.
    """
    data = _text().file_texts("cli.toml")
    return str(_text().t(data[text], lang)) if text in data else text


class _Formatter(argparse.HelpFormatter):
    """Help in the parser's language, wrapped by terminal columns: a Chinese character
    takes two, and textwrap (argparse's) counts one, so a Chinese help line ran to twice
    the terminal's width. The parsers hold text keys; they are said here."""

    def __init__(self, prog: str, lang: str = "en", **kwargs: object) -> None:
        super().__init__(prog, **kwargs)  # type: ignore[arg-type]
        self.lang = lang

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return _own(action.help, self.lang) if action.help else action.help

    def _split_lines(self, text: str, width: int) -> list[str]:
        flat = " ".join(text.split())
        if _text().display_width(flat) == len(flat):
            return super()._split_lines(text, width)
        return list(_text().wrap(flat, max(width, 20)))

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = self._split_lines(_own(text, self.lang), width - len(indent))
        return "\n".join(indent + line for line in lines)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming what was wrong, in the operator's language."""

    def __init__(self, *args: object, lang: str = "en", **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", functools.partial(_Formatter, lang=lang))
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lang = lang

    def format_help(self) -> str:
        # argparse ends a section title with an ASCII colon of its own ("位置参数:"); the
        # language's colon goes there instead (full-width in Chinese).
        text = super().format_help()
        colon = str(_text().t(_text().file_texts("words.toml")["sep.label"], self.lang)).strip()
        return re.sub(r"(?m)^(\S.*?):$", lambda m: m.group(1) + colon, text)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, tr("args.error", self.lang, prog=self.prog, message=message) + "\n")


def scan_lang(argv: Sequence[str]) -> str | None:
    """``--lang`` as given anywhere on the line, read before any parser is built.

    The parsers' help texts and argparse's own messages (``usage:``, "invalid
    choice") are made while parsing, so the language has to be known first. The
    last ``--lang X`` / ``--lang=X`` wins, as argparse would have it; after ``--``
    nothing is an option.
    """
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.partition("=")[2]
    return found


@contextlib.contextmanager
def argparse_words(lang: str) -> Iterator[None]:
    """argparse says its own words (``usage:``, "the following arguments are required")
    in ``lang`` while the block runs.

    argparse looks each message up through the module's ``_``/``ngettext`` (gettext)
    as it builds a parser and as it reports; knowledge/data/cli.toml ``[argparse]``
    holds them with argparse's English message id as the English text. Restored on
    the way out, so a caller in the same process (the tests) gets argparse back as it was.
    """
    if lang == "en":  # argparse's own words are English: nothing to load
        yield
        return
    text = _text()
    table = {v.en: text.t(v, lang) for k, v in text.file_texts("cli.toml").items() if k.startswith("argparse.")}
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = lambda msg: table.get(msg, msg)  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: table.get(one if n == 1 else many, one if n == 1 else many)
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _add_db(p: argparse.ArgumentParser, h: Callable[[str], str]) -> None:
    p.add_argument("--db", metavar="PATH", help=h("db"))


def _add_lang(p: argparse.ArgumentParser, h: Callable[[str], str]) -> None:
    p.add_argument("--lang", choices=("en", "zh"), help=h("lang"))


def _add_ascii(p: argparse.ArgumentParser, h: Callable[[str], str]) -> None:
    p.add_argument("--ascii", action="store_true", help=h("ascii"))


def _add_trace_rules(p: argparse.ArgumentParser, h: Callable[[str], str]) -> None:
    p.add_argument("--trace-rules", action="store_true", help=h("trace_rules"))


def _add_target(p: argparse.ArgumentParser, h: Callable[[str], str]) -> None:
    p.add_argument("--target", metavar="IP", help=h("target"))
    p.add_argument("--from", dest="from_side", choices=("host", "guest"), default="host", help=h("from"))
    p.add_argument("--host", metavar="VANTAGE", default="local", help=h("host"))
    p.add_argument("--guest", metavar="VANTAGE", help=h("guest"))
    # Checked by the session's request parser with the other target options (one validator).
    p.add_argument("--port", metavar="N", help=h("port"))
    p.add_argument("--no-record", action="store_true", help=h("no_record"))
    _add_trace_rules(p, h)
    _add_db(p, h)
    _add_lang(p, h)


def _command(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
             name: str, said: str) -> argparse.ArgumentParser:
    """A command whose one line in the overview is also the headline of its own --help."""
    return sub.add_parser(name, help=said, description=said)  # type: ignore[no-any-return]


def _positive_int(text: str, lang: str = "en") -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(tr("args.not_whole", lang, value=repr(text))) from None
    if value < 1:
        raise argparse.ArgumentTypeError(tr("args.not_positive", lang, value=value))
    return value


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The whole command line; help and errors in ``lang`` (argparse's own words: :func:`argparse_words`).

    Help texts are keys of knowledge/data/cli.toml, said by :class:`_Formatter` when help is printed.
    """

    def h(key: str) -> str:
        return f"args.{key}"

    cls = functools.partial(_Parser, lang=lang)
    parser = cls(prog="vnetdoctor", description=h("description"))
    parser.add_argument("-V", "--version", action="version", version=f"vnetdoctor {_version()}", help=h("version"))
    _add_lang(parser, h)  # before the command too: `vnetdoctor --lang zh help diagnose`
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=cls)

    p = _command(sub, "tui", h("tui"))
    _add_target(p, h)
    p.add_argument("--allow-changes", action="store_true", help=h("allow_changes"))
    _add_ascii(p, h)
    p.add_argument("--connect", metavar="URI", help=h("connect"))

    p = _command(sub, "diagnose", h("diagnose"))
    _add_target(p, h)
    p.add_argument("--json", action="store_true", help=h("diagnose_json"))
    p.add_argument("--interactive", action="store_true", help=h("interactive"))

    p = _command(sub, "lab", h("lab"))
    _add_lang(p, h)
    lab = p.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=cls, required=True)
    lp = _command(lab, "list", h("lab_list"))
    lp.add_argument("--json", action="store_true", help=h("lab_list_json"))
    _add_lang(lp, h)
    lp = _command(lab, "up", h("lab_up"))
    lp.add_argument("scenario", help=h("lab_scenario"))
    lp.add_argument("--prefix", default="vnd-", help=h("lab_prefix"))
    _add_lang(lp, h)
    lp = _command(lab, "down", h("lab_down"))
    lp.add_argument("--prefix", default="vnd-", help=h("lab_down_prefix"))
    _add_lang(lp, h)

    p = _command(sub, "demo", h("demo"))
    p.add_argument("scenario", nargs="?", default=None, help=h("demo_scenario"))
    p.add_argument("--prefix", default="vnd-", help=h("demo_prefix"))
    p.add_argument("--no-tui", action="store_true", help=h("no_tui"))
    p.add_argument("--allow-changes", action="store_true", help=h("allow_changes"))
    _add_ascii(p, h)
    _add_trace_rules(p, h)
    _add_db(p, h)
    _add_lang(p, h)

    p = _command(sub, "sessions", h("sessions"))
    p.add_argument("--search", metavar="TEXT", help=h("search"))
    p.add_argument("--limit", metavar="N", type=functools.partial(_positive_int, lang=lang), default=50,
                   help=h("limit"))
    p.add_argument("--all", action="store_true", help=h("all"))
    p.add_argument("--json", action="store_true", help=h("sessions_json"))
    p.add_argument("--table", action="store_true", help=h("table"))
    _add_db(p, h)
    _add_lang(p, h)

    p = _command(sub, "replay", h("replay"))
    p.add_argument("session", nargs="?", help=h("replay_session"))
    _add_ascii(p, h)
    _add_db(p, h)
    _add_lang(p, h)

    p = _command(sub, "export", h("export"))
    p.add_argument("session", help=h("session"))
    p.add_argument("--format", choices=("md", "json", "pcapng", "pcap"), default="md", help=h("format"))
    p.add_argument("--redact", action="store_true", help=h("redact"))
    p.add_argument("-o", "--output", metavar="FILE", help=h("output"))
    p.add_argument("--force", action="store_true", help=h("force"))
    _add_db(p, h)
    _add_lang(p, h)

    p = _command(sub, "diff", h("diff"))
    p.add_argument("session_a", help=h("session_a"))
    p.add_argument("session_b", help=h("session_b"))
    p.add_argument("--json", action="store_true", help=h("diff_json"))
    _add_db(p, h)
    _add_lang(p, h)

    p = _command(sub, "causes", h("causes"))
    p.add_argument("cause", nargs="?", metavar="ID", help=h("cause"))
    p.add_argument("--json", action="store_true", help=h("causes_json"))
    _add_lang(p, h)

    p = _command(sub, "bench", h("bench"))
    p.add_argument("what", nargs="?", choices=("netlink", "diagnose", "tui", "records", "all"), default="netlink",
                   help=h("bench_what"))
    p.add_argument("--quick", action="store_true", help=h("quick"))
    p.add_argument("--prefix", default=None, metavar="PFX-", help=h("bench_prefix"))
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


def _split_lead(argv: list[str]) -> tuple[list[str], list[str]]:
    """``--lang X`` given before the command (``vnetdoctor --lang zh help``), and the rest."""
    n = 0
    while n < len(argv) and (argv[n] == "--lang" or argv[n].startswith("--lang=")):
        n += 2 if argv[n] == "--lang" else 1
    return argv[:n], argv[n:]


def _parse(argv: list[str], lang: str) -> argparse.Namespace:
    parser = build_parser(lang)
    lead, rest = _split_lead(argv)
    if rest and rest[0] == "help":  # `vnetdoctor help [COMMAND]` is `vnetdoctor [COMMAND] --help`
        if rest[1:] == ["help"]:
            rest = ["help"]  # `help help`: the overview, as `help` alone
        if len(rest) > 2 or (len(rest) == 2 and rest[1] not in _COMMANDS):
            parser.error(tr("args.help_takes_one", lang, commands=", ".join(_COMMANDS)))
        rest = [*rest[1:], "--help"]
    # `vnetdoctor --target IP …` is `vnetdoctor tui --target IP …` (cli.md: the TUI is the default).
    if rest and rest[0].startswith("-") and rest[0] not in ("-h", "--help", "-V", "--version"):
        lead, rest = ["tui", *lead], rest
    args = parser.parse_args([*lead, *rest])
    if args.command is None:
        args = parser.parse_args(["tui"])
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    given = scan_lang(argv)
    lang = _text().choose_lang(given)
    with argparse_words(lang):
        args = _parse(argv, lang)
    # A subcommand's own --lang (default None) overwrites the one given before it; the scan saw both.
    args.lang = getattr(args, "lang", None) or given
    if getattr(args, "ascii", False):
        # Read by vnetdoctor.tui.glyphs at each lookup, in every screen and worker.
        os.environ["VNETDOCTOR_ASCII"] = "1"
    module = importlib.import_module(f"vnetdoctor.commands.{_COMMANDS[args.command]}")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(tr("cli.interrupted", _text().choose_lang(args.lang), signal="SIGINT"), file=sys.stderr)
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
        lang = _text().choose_lang(args.lang)
        if isinstance(exc, (UsageError, VantageError)):
            # Made as a phrase or with a text key (the store's "no session 'x'", a vantage's
            # syntax): said again in the command's --lang.
            print(f"vnetdoctor {args.command}: {_text().error_text(exc, lang)}", file=sys.stderr)
        else:
            print(f"vnetdoctor {args.command}: " + tr("args.crashed", lang, error=f"{type(exc).__name__}: {exc}"),
                  file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
