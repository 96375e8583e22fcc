"""``lab up`` and ``lab down`` speak the operator's language: every line they print under
--lang zh is Chinese apart from names (namespaces, addresses, the command to copy)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.unit.support.english_prose import CJK, english_left

from vnetdoctor.lab import SCENARIOS, TOPOLOGIES

VNETDOCTOR = [sys.executable, "-m", "vnetdoctor"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VNETDOCTOR, *args], check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "VNETDOCTOR_DEBUG": ""})


def test_lab_up_and_down_in_chinese(lab_prefix: str) -> None:
    names = set(SCENARIOS) | set(TOPOLOGIES) | {"host", "dns", "tcp", "pid", "do"}  # "ping -M do": a command
    proc = _cli("lab", "up", "healthy", "--prefix", lab_prefix, "--lang", "zh")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"实验环境 '{lab_prefix}' 已建好：healthy（无故障，拓扑 bridged），用时 ")
    assert f"从 {lab_prefix}host ping 198.18.0.11 成功" in [line.strip() for line in lines]
    prose = [line for line in lines if not line.startswith("  vnetdoctor ")]  # the commands to copy stay as typed
    assert all(CJK.search(line) for line in prose), proc.stdout
    assert english_left("\n".join(prose), names) == [], proc.stdout
    again = _cli("lab", "up", "healthy", "--prefix", lab_prefix, "--lang", "zh")
    assert again.returncode == 2 and again.stderr.startswith(f"vnetdoctor lab: 前缀为 '{lab_prefix}' 的实验环境已经存在")
    down = _cli("lab", "down", "--prefix", lab_prefix, "--lang", "zh")
    assert down.returncode == 0, down.stderr
    assert f"已删除网络命名空间 {lab_prefix}guest" in down.stdout.splitlines()
    assert english_left(down.stdout, names) == [], down.stdout
    assert _cli("lab", "down", "--prefix", lab_prefix, "--lang", "zh").stdout == (
        f"没有找到前缀为 '{lab_prefix}' 的实验环境\n")
