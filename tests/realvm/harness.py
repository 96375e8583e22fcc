#!/usr/bin/env python3
"""Run the real guest by hand: ``python -m tests.realvm.harness up``, try vnetdoctor on it, ``… down``.

    .venv/bin/python -m tests.realvm.harness up [--tag man]     # libvirtd + NAT network + guest
    .venv/bin/python -m tests.realvm.harness status [--tag man]
    .venv/bin/python -m tests.realvm.harness down [--tag man]
    .venv/bin/python -m tests.realvm.harness sweep               # leftovers of dead test runs

``up`` prints the ``vnetdoctor diagnose`` line for the instance and the timings
(image from the cache or built, libvirtd start, guest boot). Everything lives in
the namespaces ``vnrv-TAG-host``/``vnrv-TAG-peer`` and ``/tmp/vnrv-TAG``; ``down``
ends every process by PID and removes them. Tags starting with ``t`` followed by
digits are reserved for test runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from tests.realvm.support import daemon
from tests.realvm.support.image import ImageUnavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realvm.harness", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("up", "down", "status", "sweep"))
    parser.add_argument("--tag", default="man", help="instance tag (default: man)")
    args = parser.parse_args(argv)
    if args.command != "sweep" and (not args.tag.isalnum() or len(args.tag) > 8):
        print(f"tests.realvm.harness: bad tag {args.tag!r}: up to 8 letters or digits", file=sys.stderr)
        return 2
    if args.command == "sweep":
        print("swept:", " ".join(daemon.sweep()) or "nothing")
        return 0
    if args.command == "down":
        problems = daemon.down(args.tag)
        print("down" if not problems else f"left: {problems}")
        return 1 if problems else 0
    if args.command == "status":
        state = Path(f"/tmp/vnrv-{args.tag}/state.json")
        print(state.read_text() if state.exists() else f"no instance {args.tag}")
        return 0 if state.exists() else 1
    try:
        inst = daemon.up(args.tag)
    except (daemon.HarnessUnavailable, ImageUnavailable) as exc:
        print(f"tests.realvm.harness: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        daemon.down(args.tag)
        raise
    print(json.dumps(inst.timings))
    print("diagnose with:")
    print("  " + shlex.join(["vnetdoctor", "diagnose", "--guest", inst.guest, "--host", inst.host]))
    print(f"virsh: virsh -c {shlex.quote(inst.uri)} list --all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
