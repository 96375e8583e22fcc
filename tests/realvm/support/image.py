"""The tiny guest the real-guest tests boot: a Debian kernel and an initramfs, cached.

Why this shape (real-vm.md, measured on this kind of machine): no disk image, no
installer, no network fetch beyond Debian's own archive. The Debian kernel is booted
directly by QEMU (``<kernel>``/``<initrd>`` in the domain XML) with an initramfs
holding

* busybox (static) as init, shell, ``udhcpc``, ``sysctl``, ``nslookup``, ``cat``;
* the virtio (+ failover), virtio_console and nf_tables modules of that kernel, in
  dependency order (read from each module's own ``depends=``, since the package
  ships no ``modules.dep``);
* iproute2's ``ip`` (the guest probes parse its JSON; busybox ``ip`` has none),
  ``nft`` and iputils ``ping`` from this machine, and ``qemu-ga`` from its .deb,
  each with the shared libraries ``ldd`` names and the loader.

Its init (``INIT`` below) links ``/dev/virtio-ports/org.qemu.guest_agent.0``, starts
the agent there and keeps a DHCP client running that retries quickly, so a guest
that lost its lease gets one back as soon as the network's dnsmasq answers again.

The result is cached under ``~/.cache/vnetdoctor-realvm/<key>/`` where the key
hashes the versions of every package that goes in and this file's own text: a
second run (and CI on a warm machine) reuses it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("VNRV_CACHE") or Path.home() / ".cache" / "vnetdoctor-realvm")

# Host binaries that go into the guest, by the package that owns them.
HOST_BINARIES = {"iproute2": "/usr/sbin/ip", "nftables": "/usr/sbin/nft", "iputils-ping": "/usr/bin/ping"}
BUSYBOX = "/bin/busybox"  # busybox-static
# crc32c_generic first: libcrc32c (nf_tables needs it) asks the crypto API for "crc32c" on load.
MODULES = ("crc32c_generic", "virtio_pci", "virtio_net", "virtio_console", "nf_tables", "nft_reject_inet", "nft_ct")

INIT = r"""#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /var/run /dev/virtio-ports
mount -t tmpfs tmpfs /run
for m in $(cat /etc/modules.order); do insmod "/lib/modules/$m" 2>/dev/null; done
ip link set lo up
n=0
while [ $n -lt 200 ] && ! ls /sys/class/virtio-ports/*/name >/dev/null 2>&1; do sleep 0.1; n=$((n+1)); done
for p in /sys/class/virtio-ports/*; do
  [ -f "$p/name" ] && ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
done
qemu-ga -d -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run -f /run/qemu-ga.pid
n=0
while [ $n -lt 200 ] && [ ! -e /sys/class/net/eth0 ]; do sleep 0.1; n=$((n+1)); done
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.script -b -t 3 -T 1 -A 1 -p /run/udhcpc.pid
echo "vnrv guest up" > /dev/console
while :; do sleep 3600; done
"""

UDHCPC_SCRIPT = r"""#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done ;;
esac
exit 0
"""


# What qemu-ga runs for guest-shutdown (`virsh shutdown` tries the agent first): power off now.
SHUTDOWN = """#!/bin/sh
sync
echo o > /proc/sysrq-trigger
"""


class ImageUnavailable(RuntimeError):
    """The guest image cannot be built on this machine; the message says exactly why."""


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initrd: Path
    key: str
    built: bool  # False when it came from the cache
    seconds: float


def _run(argv: list[str], cwd: str | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    if proc.returncode != 0:
        raise ImageUnavailable(f"{' '.join(argv)} failed: {(proc.stderr or proc.stdout).strip()[:300]}")
    return proc.stdout


def _installed(pkg: str) -> str:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout:
        raise ImageUnavailable(f"package {pkg} is not installed (./bootstrap installs it)")
    return proc.stdout


def _candidate(pkg: str) -> str:
    out = _run(["apt-cache", "policy", pkg])
    match = re.search(r"Candidate:\s*(\S+)", out)
    if not match or match.group(1) == "(none)":
        raise ImageUnavailable(f"apt knows no candidate for {pkg} (apt-get update first?)")
    return match.group(1)


def kernel_package() -> str:
    """``linux-image-amd64`` is a metapackage: the versioned image it depends on."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    match = re.search(r"Depends:\s*(linux-image-\S+-amd64)", out)
    if not match:
        raise ImageUnavailable("apt-cache depends linux-image-amd64 names no kernel image")
    return match.group(1)


def image_key() -> tuple[str, str]:
    """(cache key, the kernel package): versions of everything that goes in + this recipe."""
    kpkg = kernel_package()
    parts = [f"{kpkg}={_candidate(kpkg)}", f"qemu-guest-agent={_candidate('qemu-guest-agent')}",
             f"busybox-static={_installed('busybox-static')}"]
    parts += [f"{pkg}={_installed(pkg)}" for pkg in HOST_BINARIES]
    parts.append(hashlib.sha256(Path(__file__).read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16], kpkg


def _depends(ko: Path) -> list[str]:
    match = re.search(rb"depends=([\w,-]*)\0", ko.read_bytes())
    return [d for d in (match.group(1).decode().split(",") if match else []) if d]


def _module_order(moddir: Path) -> list[Path]:
    by_name = {p.name[:-3].replace("-", "_"): p for p in moddir.rglob("*.ko")}
    order: list[Path] = []

    def visit(name: str) -> None:
        path = by_name.get(name.replace("-", "_"))
        if path is None:
            raise ImageUnavailable(f"kernel module {name} not in {moddir}")
        if path in order:
            return
        for dep in _depends(path):
            visit(dep)
        order.append(path)

    for name in MODULES:
        visit(name)
    return order


def _libraries(binaries: list[str]) -> set[str]:
    libs: set[str] = set()
    for binary in binaries:
        for line in _run(["ldd", binary]).splitlines():
            match = re.search(r"(/\S+)\s+\(0x", line)
            if match:
                libs.add(match.group(1))
    return libs


class _Cpio:
    """A newc cpio archive written in Python (no cpio binary needed)."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.ino = 1
        self.dirs: set[str] = set()

    def _entry(self, name: str, mode: int, data: bytes = b"") -> None:
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
        self.buf.write(b"070701" + b"".join(b"%08X" % f for f in fields) + name_b)
        self.buf.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4) + data)
        self.buf.write(b"\0" * ((4 - len(data) % 4) % 4))
        self.ino += 1

    def mkdir(self, path: str) -> None:
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub and sub not in self.dirs:
                self.dirs.add(sub)
                self._entry(sub, stat.S_IFDIR | 0o755)

    def file(self, path: str, data: bytes, mode: int = 0o755) -> None:
        self.mkdir(os.path.dirname(path.strip("/")))
        self._entry(path.strip("/"), stat.S_IFREG | mode, data)

    def symlink(self, path: str, target: str) -> None:
        self.mkdir(os.path.dirname(path.strip("/")))
        self._entry(path.strip("/"), stat.S_IFLNK | 0o777, target.encode())

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def build_image(force: bool = False) -> GuestImage:
    """The cached guest image, built first when missing (or ``force``)."""
    import time

    start = time.monotonic()
    for tool in ("apt-get", "apt-cache", "dpkg-deb", "ldd", BUSYBOX, *HOST_BINARIES.values()):
        if shutil.which(tool) is None and not os.path.exists(tool):
            raise ImageUnavailable(f"needs {tool} to build the guest image (./bootstrap installs it)")
    key, kpkg = image_key()
    out = CACHE / key
    kernel, initrd = out / "vmlinuz", out / "initrd.img"
    if kernel.exists() and initrd.exists() and not force:
        return GuestImage(kernel, initrd, key, False, time.monotonic() - start)
    with tempfile.TemporaryDirectory(prefix="vnrv-image-") as tmp:
        _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", kpkg, "qemu-guest-agent"], cwd=tmp)
        debs = {p.name.split("_")[0]: p for p in Path(tmp).glob("*.deb")}
        root_k, root_ga = Path(tmp, "k"), Path(tmp, "ga")
        _run(["dpkg-deb", "-x", str(debs[kpkg]), str(root_k)])
        _run(["dpkg-deb", "-x", str(debs["qemu-guest-agent"]), str(root_ga)])
        moddir = next((root_k / "lib" / "modules").iterdir())
        vmlinuz = next((root_k / "boot").glob("vmlinuz-*"))
        qga = str(root_ga / "usr" / "sbin" / "qemu-ga")
        archive = _Cpio()
        for d in ("proc", "sys", "dev", "run", "tmp", "etc", "root", "var/run", "lib/modules"):
            archive.mkdir(d)
        archive.file("init", INIT.encode())
        archive.file("etc/udhcpc.script", UDHCPC_SCRIPT.encode())
        archive.file("sbin/shutdown", SHUTDOWN.encode())
        archive.file("etc/resolv.conf", b"", 0o644)
        archive.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
        archive.file("etc/group", b"root:x:0:\n", 0o644)
        order = _module_order(moddir)
        for ko in order:
            archive.file(f"lib/modules/{ko.name}", ko.read_bytes(), 0o644)
        archive.file("etc/modules.order", "\n".join(ko.name for ko in order).encode() + b"\n", 0o644)
        archive.file("bin/busybox", Path(BUSYBOX).read_bytes())
        binaries = {**{b: b for b in HOST_BINARIES.values()}, "/usr/sbin/qemu-ga": qga}
        for dest, src in binaries.items():
            archive.file(dest, Path(src).read_bytes())
        for lib in sorted(_libraries(list(binaries.values()))):
            archive.file(lib, Path(lib).read_bytes())
        taken = set(binaries) | {"/bin/busybox", "/init", "/sbin/shutdown"}
        for applet in _run([BUSYBOX, "--list-full"]).split():
            path = "/" + applet
            if path not in taken:
                taken.add(path)
                archive.symlink(path, "/bin/busybox")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(vmlinuz, kernel)
        initrd.write_bytes(gzip.compress(archive.finish(), compresslevel=6))
    return GuestImage(kernel, initrd, key, True, time.monotonic() - start)
