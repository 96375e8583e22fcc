"""Run code and commands inside a vantage's network namespace.

``setns(CLONE_NEWNET)`` changes only the calling thread, so work for a named
namespace runs in a short-lived thread that enters it, does the work and leaves.
Sockets keep the namespace they were created in, so a probe may open its
netlink/packet sockets here and use them from any thread afterwards. A child
process forked from that thread starts in the namespace too, which is how
commands (``nft``, ``iptables-legacy-save``) are run there without ``ip netns exec``.

A libvirt guest has no namespace on this host: its commands go through a guest
runner, by default the qemu-guest-agent one (:func:`guest_runner`).
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .vantage import Vantage, VantageError

CLONE_NEWNET = 0x40000000
T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)


class NamespaceError(OSError):
    """Entering a namespace failed (missing, or no CAP_SYS_ADMIN)."""


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NamespaceError(err, os.strerror(err))


def call_in(vantage: Vantage, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call ``fn`` with the calling thread inside ``vantage``'s network namespace."""
    if vantage.kind == "local":
        return fn(*args, **kwargs)
    if vantage.kind != "netns":
        raise VantageError(f"{vantage} has no network namespace on this host")
    path = vantage.netns_path
    assert path is not None
    box: dict[str, object] = {}

    def run() -> None:
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        except OSError as exc:
            box["error"] = exc
            return
        try:
            try:
                target = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                box["error"] = VantageError(f"unknown network namespace {vantage.name!r}")
                return
            try:
                _setns(target)
            except NamespaceError as exc:
                box["error"] = NamespaceError(exc.errno, f"cannot enter {vantage}: {exc.strerror}")
                return
            finally:
                os.close(target)
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # handed back to the caller's thread
                box["error"] = exc
            finally:
                # The thread dies next, but restore anyway: a thread-pool caller may reuse it.
                _setns(own)
        finally:
            os.close(own)

    thread = threading.Thread(target=run, name=f"netns:{vantage.name}", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


GuestRunner = Callable[[Vantage, Sequence[str], float], CommandResult]
_guest_runners: dict[str, GuestRunner] = {}


def register_guest_runner(kind: str, runner: GuestRunner) -> None:
    """Run commands for ``kind`` vantages with ``runner`` instead of the built-in one."""
    _guest_runners[kind] = runner


def builtin_guest_runner(kind: str) -> GuestRunner | None:
    """The runner this package ships for ``kind`` (libvirt: qemu-guest-agent), or None.

    Imported here, on first use, rather than registered as a side effect of importing
    ``probes.libvirt``: applying a fix in a guest (``knowledge.apply``) used to work
    only if something else had happened to import that module first.
    """
    if kind == "libvirt":
        from .guest_agent import run_in_guest  # guest_agent imports this module

        return run_in_guest
    return None


def guest_runner(kind: str) -> GuestRunner | None:
    """Who runs commands in a ``kind`` vantage: a registered runner, else the built-in one."""
    return _guest_runners.get(kind) or builtin_guest_runner(kind)


def run_command(vantage: Vantage, argv: Sequence[str], timeout: float = 5.0) -> CommandResult:
    """Run ``argv`` in the vantage and capture its output; never raises for a non-zero exit.

    A missing binary gives return code 127 and the reason in ``stderr``;
    a timeout gives 124, like coreutils' ``timeout``.
    """
    if vantage.kind == "libvirt":
        runner = guest_runner("libvirt")
        if runner is None:
            return CommandResult(tuple(argv), 127, "", "no guest command runner for libvirt")
        return runner(vantage, argv, timeout)

    def spawn() -> CommandResult:
        try:
            proc = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C"},
            )
        except FileNotFoundError:
            return CommandResult(tuple(argv), 127, "", f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return CommandResult(tuple(argv), 124, out, f"{argv[0]}: timed out after {timeout}s")
        return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)

    return call_in(vantage, spawn)


def read_text(vantage: Vantage, path: str) -> str | None:
    """Read a procfs file as seen from the vantage (None when it does not exist).

    Use ``/proc/thread-self/net/...`` rather than ``/proc/net``: the latter follows
    the thread-group leader's namespace, not the thread's.
    """

    def read() -> str | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    return call_in(vantage, read)
