"""A diagnosis run in-process, as ``vnetdoctor diagnose ARGS`` would run it, and a short
account of it for assertion messages."""

from __future__ import annotations

from vnetdoctor.cli import build_parser
from vnetdoctor.commands.diagnose import build_request
from vnetdoctor.knowledge.engine import Engine
from vnetdoctor.knowledge.model import Diagnosis


def diagnose(args: list[str], lang: str = "en") -> Diagnosis:
    request = build_request(build_parser().parse_args(["diagnose", *args, "--no-record", "--lang", lang]))
    return Engine(request).run()


def describe(d: Diagnosis) -> str:
    lines = [f"reachable={d.reachable} causes={[c.cause for c in d.causes]}"]
    lines += [f"  {s.status:4} {s.step}: {s.note}" for s in d.steps if s.status != "skip"]
    return "\n".join(lines)
