"""A tracefs instance of our own: its ring buffer, its filters, its ``trace_pipe``.

Why an instance (kernel-evidence.md): the top-level trace settings belong to whoever
else traces this machine, and two vnetdoctor runs at once must both see every event;
an instance has its own buffer and filters, and ``rmdir`` of it turns its events off.
Instances are named ``vnetdoctor-<pid>-<random>`` so that a run killed before its
``finally`` leaves a name whose process is gone, which the next run sweeps.

tracefs is often not mounted (it is not on this kind of machine). Then it is mounted
in a private mount namespace that one short-lived thread creates (``unshare`` of
CLONE_NEWNS|CLONE_FS changes that thread alone): the directory file descriptor it
opens keeps the mount reachable for the process, and the operator's mount table never
changes. tracefs is one filesystem however often it is mounted, so instances made
through it are the machine's own (and visible to the sweep of any later run).

Every failure is a :class:`~.base.Skip` with what is missing; nothing here raises past
the probe.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import threading
from collections.abc import Iterable

from .base import Skip
from .caps import CAP_SYS_ADMIN, has_cap

CAP_DAC_OVERRIDE = 1
CLONE_NEWNS = 0x00020000
CLONE_FS = 0x00000200
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

PREFIX = "vnetdoctor-"
KNOWN_MOUNTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")

_lock = threading.Lock()
_root_fd: int | None = None


def needs_reason() -> str | None:
    """Why this process cannot use tracefs, or None: its files are root's, mode 0640/0750."""
    if os.geteuid() == 0 or has_cap(CAP_DAC_OVERRIDE):
        return None
    return "needs root or CAP_DAC_OVERRIDE (tracefs)"


def _has_tracefs() -> bool:
    try:
        with open("/proc/filesystems", encoding="ascii") as fh:
            return any(line.split()[-1] == "tracefs" for line in fh if line.strip())
    except OSError:
        return False


def _mount_private() -> int:
    """Mount tracefs in a private mount namespace of a throw-away thread; its root's fd."""
    if not has_cap(CAP_SYS_ADMIN):
        raise Skip("tracefs is not mounted and mounting it privately needs CAP_SYS_ADMIN")
    result: dict[str, object] = {}

    def work() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        steps = (
            ("unshare", lambda: libc.unshare(CLONE_NEWNS | CLONE_FS)),
            ("make / private", lambda: libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None)),
            ("mount tracefs", lambda: libc.mount(b"nodev", KNOWN_MOUNTS[0].encode(), b"tracefs", 0, None)),
        )
        for what, call in steps:
            if call() != 0:
                result["error"] = f"{what}: {os.strerror(ctypes.get_errno())}"
                return
        try:
            result["fd"] = os.open(KNOWN_MOUNTS[0], os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            result["error"] = f"open tracefs: {exc.strerror}"

    thread = threading.Thread(target=work, name="tracefs-mount", daemon=True)
    thread.start()
    thread.join()
    fd = result.get("fd")
    if not isinstance(fd, int):
        raise Skip(f"cannot mount tracefs privately ({result.get('error', 'unknown error')})")
    return fd


def root_fd() -> int:
    """A directory fd on tracefs' root (mounted privately when it is nowhere), opened once."""
    global _root_fd
    with _lock:
        if _root_fd is not None:
            return _root_fd
        why = needs_reason()
        if why:
            raise Skip(why)
        if not _has_tracefs():
            raise Skip("the kernel has no tracefs (CONFIG_TRACING)")
        for path in KNOWN_MOUNTS:
            if os.path.isdir(os.path.join(path, "instances")):
                _root_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
                break
        else:
            _root_fd = _mount_private()
        if not os.path.exists(os.path.join(f"/proc/self/fd/{_root_fd}", "events/skb/kfree_skb")):
            raise Skip("the kernel has no skb:kfree_skb tracepoint")
        return _root_fd


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists (a stale name's owner is gone when not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(fd: int | None = None) -> list[str]:
    """Remove instances left by vnetdoctor runs whose process is gone (a crash, a SIGKILL)."""
    fd = root_fd() if fd is None else fd
    removed: list[str] = []
    try:
        names = instances(fd)
    except OSError:
        return removed
    for name in names:
        pid = name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            try:
                os.rmdir(f"instances/{name}", dir_fd=fd)
                removed.append(name)
            except OSError:
                pass  # another run sweeping at the same moment, or still busy: next time
    return removed


def instances(fd: int | None = None) -> list[str]:
    """The vnetdoctor instances that exist now (tests check none is left behind)."""
    fd = root_fd() if fd is None else fd
    dirfd = os.open("instances", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    try:
        return sorted(n for n in os.listdir(dirfd) if n.startswith(PREFIX))
    finally:
        os.close(dirfd)


class Instance:
    """One tracefs instance: created by :meth:`create`, gone after :meth:`remove`."""

    def __init__(self, tag: str = "drops") -> None:
        self.fd = root_fd()
        self.name = f"{PREFIX}{os.getpid()}-{tag}-{secrets.token_hex(3)}"
        self.dir = f"instances/{self.name}"
        self.pipe: int | None = None

    def create(self) -> None:
        sweep(self.fd)
        try:
            os.mkdir(self.dir, dir_fd=self.fd)
        except OSError as exc:
            raise Skip(f"cannot create a tracefs instance ({exc.strerror})") from exc

    def write(self, rel: str, value: str) -> None:
        fd = os.open(f"{self.dir}/{rel}", os.O_WRONLY | os.O_TRUNC, dir_fd=self.fd)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def has_event(self, event: str) -> bool:
        try:
            os.stat(f"{self.dir}/events/{event}/enable", dir_fd=self.fd)
        except OSError:
            return False
        return True

    def enable(self, events: Iterable[tuple[str, str]]) -> list[str]:
        """Enable (event, filter) pairs; the events this kernel lacks (others still run)."""
        missing = []
        for event, filt in events:
            if not self.has_event(event):
                missing.append(event)
                continue
            if filt:
                self.write(f"events/{event}/filter", filt)
            self.write(f"events/{event}/enable", "1")
        return missing

    def open_pipe(self) -> int:
        """Non-blocking: the reader polls it (see kernel_drops), nobody waits on it."""
        self.pipe = os.open(f"{self.dir}/trace_pipe", os.O_RDONLY | os.O_NONBLOCK, dir_fd=self.fd)
        return self.pipe

    def remove(self) -> None:
        """Close the pipe and remove the instance (its events go off with it)."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        for _ in range(20):
            try:
                os.rmdir(self.dir, dir_fd=self.fd)
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                threading.Event().wait(0.01)  # a reader still closing: it lets go in ms
