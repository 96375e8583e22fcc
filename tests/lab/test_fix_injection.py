"""Values are data, never code: a guest NIC named like a shell command stays a name.

The guest's interface is renamed to names a shell would act on (the kernel accepts
every character but ``/``, ``:`` and whitespace), the lab is diagnosed, and the fix
the tool offers is checked three ways: what it displays splits back into exactly
the argv it runs; applying it through the walk's own path brings that very NIC up
and runs nothing else (no canary file appears); and its undo, pasted into a real
shell as an operator would, takes the NIC down again and runs nothing else either.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from vnetdoctor.knowledge.apply import apply_fix
from vnetdoctor.knowledge.engine import Engine
from vnetdoctor.knowledge.model import Diagnosis

from vnetdoctor import lab
from vnetdoctor.cli import build_parser
from vnetdoctor.commands.diagnose import build_request

pytestmark = pytest.mark.lab

# Each at most 15 bytes (IFNAMSIZ); together they hold ; $ ( ) { } > < | & \ ` ' " * ?.
# Run by a shell, most would create the file C (or D) in the working directory.
NAMES = [
    "x;touch${IFS}C",
    "x$(>C)",
    "x|touch${IFS}C",
    "x&touch${IFS}C",
    "x`>C`",
    "x>C",
    "x<C>D",
    "a\\b'c\"d",
    "x*?",
]


def diagnose(args: list[str]) -> Diagnosis:
    request = build_request(build_parser().parse_args(["diagnose", *args, "--no-record", "--lang", "en"]))
    return Engine(request).run()


def ip(ns: str, *argv: str) -> str:
    return subprocess.run(["ip", "-n", ns, *argv], check=True, capture_output=True, text=True).stdout


def admin_up(ns: str, name: str) -> bool:
    (link,) = json.loads(ip(ns, "-j", "link", "show", "dev", name))
    return "UP" in link["flags"]


def test_every_name_fits_a_linux_interface() -> None:
    assert all(len(n.encode()) <= 15 and not set(n) & set("/: \t\n") for n in NAMES)
    assert set(";$()><|&\\`'\"*?") <= set("".join(NAMES))


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
def test_a_guest_nic_named_like_a_command_is_fixed_as_a_name(
    lab_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a shell would have left the canary files
    with lab.up("link.guest_if_down", lab_prefix) as inst:
        guest = inst.ns("guest")
        current = "eth0"
        try:
            for name in NAMES:
                ip(guest, "link", "set", "dev", current, "name", name)
                current = name
                assert not admin_up(guest, name)
                d = diagnose(inst.diagnose_args())
                assert d.causes and d.causes[0].cause == "link.guest_if_down", [c.cause for c in d.causes]
                fix = d.causes[0].fixes[0]
                assert fix.runnable and fix.missing == ()
                # What the operator reads (and copies) is exactly what runs.
                assert shlex.split(fix.command) == list(fix.argv)
                assert shlex.split(fix.undo) == list(fix.undo_argv)
                assert fix.argv[:4] == ("ip", "netns", "exec", guest) and fix.argv.count(name) == 1
                res = apply_fix(fix, timeout=10)  # the walk's own path
                assert res.returncode == 0, (name, res)
                assert admin_up(guest, name), f"the fix did not bring {name!r} up"
                assert list(tmp_path.iterdir()) == [], f"{name!r}: a shell ran part of the name"
                # The undo as an operator pastes it into a root shell.
                subprocess.run(["sh", "-c", fix.undo], check=True, capture_output=True)
                assert not admin_up(guest, name)
                assert list(tmp_path.iterdir()) == [], f"{name!r}: the displayed undo is not shell-safe"
        finally:
            subprocess.run(["ip", "-n", guest, "link", "set", "dev", current, "name", "eth0"],
                           capture_output=True, check=False)
