"""A real libvirtd with a NAT network and one QEMU guest, isolated in namespaces of its own.

What runs (real-vm.md records why each piece is needed on this kind of machine):

* network namespace ``vnrv-<tag>-host``: the hypervisor host as vnetdoctor sees it
  (``--host netns:vnrv-<tag>-host``): the NAT bridge, the guest's tap, libvirt's
  iptables rules, its dnsmasq, and a stand-in upstream DNS server on 127.0.0.1;
* a private mount namespace for libvirtd (``ip netns exec`` makes one and remounts
  /sys for the namespace), with tmpfs over /run, /var/lib, /var/cache, /var/log and
  temporary directories bind-mounted at ``…/libvirt`` and over /etc/libvirt, plus
  /etc/passwd and /etc/group copies that add the ``libvirt-qemu`` user the QEMU
  driver looks up: the root file system is never written;
* libvirtd itself (no systemd, no virtlogd: ``stdio_handler = "file"``), reached
  from outside at ``qemu:///system?socket=/tmp/vnrv-<tag>/run/libvirt-sock``;
* network namespace ``vnrv-<tag>-peer``: a machine beyond the host (198.19.7.2),
  routed to the NAT network through a veth, for the "peer outside" fault.

Every process is recorded by PID in ``/tmp/vnrv-<tag>/state.json``; :func:`down`
ends them by PID (and any process still inside the namespaces, which can only be
ours) and deletes the namespaces and the directory, also after a failure. Tags
``t<PID>`` belong to a test process: :func:`sweep` takes down those whose process
is gone. UUIDs are fixed, so a re-definition never fails on a mismatch.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vnetdoctor.probes.kernel_drops_tracefs import pid_alive  # one definition: the probe's

HERE = Path(__file__).resolve().parent
DOMAIN = "vnrv-guest"
NETWORK = "vnrv-nat"
BRIDGE = "vnrv-br0"
DOMAIN_UUID = "5e1f2a3b-0d0c-4e11-9a00-000000000011"
NETWORK_UUID = "5e1f2a3b-0d0c-4e11-9a00-000000000012"
NWFILTER = "vnrv-no-icmp"
NWFILTER_UUID = "5e1f2a3b-0d0c-4e11-9a00-000000000013"
GUEST_MAC = "52:54:00:18:7a:11"
HOST_IP = "198.18.122.1"
PEER_IP, PEER_HOST_IP = "198.19.7.2", "198.19.7.1"
TOOLS = ("libvirtd", "virsh", "qemu-system-x86_64", "dnsmasq", "ip", "iptables", "nft")

QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""
LIBVIRTD_CONF = """auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:stderr"
"""

# Runs in the mount namespace `ip netns exec` made; then becomes libvirtd (same PID).
SETUP = r"""set -e
T="$1"
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
mount -t tmpfs tmpfs /var/cache
mount -t tmpfs tmpfs /var/log
for d in run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt; do
  mkdir -p "${d#*:}"; mount --bind "$T/${d%%:*}" "${d#*:}"
done
mkdir -p /var/lib/misc
mount --bind "$T/etc" /etc/libvirt
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group
exec libvirtd 2>>"$T/libvirtd.log" >&2
"""


class HarnessUnavailable(RuntimeError):
    """This machine cannot run the real guest; the message says exactly why."""


@dataclass
class Instance:
    tag: str
    root: str
    host_ns: str
    peer_ns: str
    uri: str
    owner: int
    pids: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def guest(self) -> str:
        return f"libvirt:{DOMAIN}@{self.uri}"

    @property
    def host(self) -> str:
        return f"netns:{self.host_ns}"

    def save(self) -> None:
        Path(self.root, "state.json").write_text(json.dumps(asdict(self), indent=1))


def run(argv: list[str], check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env={**os.environ, "LC_ALL": "C"})
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[:400]}")
    return proc


def in_host(inst: Instance, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["ip", "netns", "exec", inst.host_ns, *argv], check=check)


def preflight() -> None:
    """Raise HarnessUnavailable naming the first thing this machine lacks."""
    from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, has_cap

    if not (has_cap(CAP_NET_ADMIN) and has_cap(CAP_SYS_ADMIN)):
        raise HarnessUnavailable("needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) for namespaces and libvirtd")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            raise HarnessUnavailable(f"needs {tool} (./bootstrap installs the real-guest packages)")
    try:
        import libvirt  # noqa: F401
        import libvirt_qemu  # noqa: F401
    except ImportError as exc:
        raise HarnessUnavailable(f"needs libvirt-python ({exc})") from None
    probe = run(["unshare", "--net", "--mount", "true"], check=False)
    if probe.returncode != 0:
        raise HarnessUnavailable(f"cannot create namespaces: {probe.stderr.strip()}")


def _write_conf(root: Path) -> None:
    for sub in ("run", "lib", "cache", "log", "etc/qemu/networks", "etc/nwfilter", "etc/storage"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "etc" / "qemu.conf").write_text(QEMU_CONF)
    (root / "etc" / "libvirtd.conf").write_text(LIBVIRTD_CONF)
    (root / "etc" / "libvirt.conf").write_text("")
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    if not any(line.startswith("libvirt-qemu:") for line in passwd.splitlines()):
        passwd += "libvirt-qemu:x:64055:64055:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n"
    if not any(line.startswith("libvirt-qemu:") for line in group.splitlines()):
        group += "libvirt-qemu:x:64055:\n"
    (root / "passwd").write_text(passwd)
    (root / "group").write_text(group)
    (root / "dns-mode").write_text("answer\n")


def network_xml() -> str:
    return f"""<network>
  <name>{NETWORK}</name><uuid>{NETWORK_UUID}</uuid>
  <forward mode='nat'/>
  <bridge name='{BRIDGE}' stp='on' delay='0'/>
  <mtu size='1500'/>
  <mac address='52:54:00:18:7a:01'/>
  <dns><forwarder addr='127.0.0.1'/></dns>
  <ip address='{HOST_IP}' netmask='255.255.255.0'>
    <dhcp><range start='198.18.122.100' end='198.18.122.199'/></dhcp>
  </ip>
</network>"""


def domain_xml(kernel: str, initrd: str, console: str) -> str:
    return f"""<domain type='qemu'>
  <name>{DOMAIN}</name><uuid>{DOMAIN_UUID}</uuid>
  <memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel><initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='network'>
      <source network='{NETWORK}'/><mac address='{GUEST_MAC}'/>
      <model type='virtio'/><rom bar='off'/>
    </interface>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <serial type='file'><source path='{console}'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>"""


def nwfilter_xml() -> str:
    return f"""<filter name='{NWFILTER}' chain='ipv4' priority='-700'>
  <uuid>{NWFILTER_UUID}</uuid>
  <rule action='drop' direction='in' priority='500'><icmp/></rule>
</filter>"""


def connect(inst: Instance) -> Any:
    import libvirt

    libvirt.registerErrorHandler(lambda _c, _e: None, None)
    return libvirt.open(inst.uri)


def wait_for(what: str, cond: Any, timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = cond()
            if value:
                return value
        except Exception as exc:  # the condition is not met yet: say the last reason on timeout
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not within {timeout:.0f}s" + (f" (last: {last})" if last else ""))


def agent_ping(inst: Instance, timeout: int = 2) -> bool:
    import libvirt_qemu

    dom = connect(inst).lookupByName(DOMAIN)
    libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-ping"}', timeout, 0)
    return True


def guest_ipv4(inst: Instance) -> str | None:
    """The guest's IPv4 address on eth0 as its agent reports it (None without one)."""
    import libvirt_qemu

    dom = connect(inst).lookupByName(DOMAIN)
    answer = json.loads(libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-network-get-interfaces"}', 5, 0))
    for item in answer.get("return", []):
        if item.get("name") == "eth0":
            for ip in item.get("ip-addresses") or ():
                if ip.get("ip-address-type") == "ipv4":
                    return str(ip["ip-address"])
    return None


def wait_guest_ready(inst: Instance, timeout: float = 120) -> str:
    """Wait until the agent answers and the guest holds an IPv4 address; return it."""
    wait_for("the guest agent", lambda: agent_ping(inst), timeout, 0.5)
    return str(wait_for("a DHCP address in the guest", lambda: guest_ipv4(inst), timeout, 0.5))


def up(tag: str, boot: bool = True) -> Instance:
    """Bring everything up under ``tag`` (taking down whatever is left under it first)."""
    from tests.realvm.support.image import build_image

    preflight()
    down(tag)
    root = Path(f"/tmp/vnrv-{tag}")
    inst = Instance(tag=tag, root=str(root), host_ns=f"vnrv-{tag}-host", peer_ns=f"vnrv-{tag}-peer",
                    uri=f"qemu:///system?socket={root}/run/libvirt-sock", owner=os.getpid())
    root.mkdir(mode=0o700)
    inst.save()
    started = time.monotonic()
    image = build_image()
    inst.timings["image_s"] = round(image.seconds, 2)
    inst.timings["image_built"] = float(image.built)
    _write_conf(root)
    run(["ip", "netns", "add", inst.host_ns])
    run(["ip", "netns", "add", inst.peer_ns])
    inst.save()
    run(["ip", "-n", inst.host_ns, "link", "set", "lo", "up"])
    _peer(inst)
    dns = subprocess.Popen(["ip", "netns", "exec", inst.host_ns, sys.executable, str(HERE / "dns_standin.py"),
                            "127.0.0.1", str(root / "dns-mode")], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=open(root / "dns.log", "w"), start_new_session=True)
    inst.pids["dns"] = dns.pid
    daemon = subprocess.Popen(["ip", "netns", "exec", inst.host_ns, "sh", "-c", SETUP, "setup", str(root)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    inst.pids["libvirtd"] = daemon.pid
    inst.save()
    t0 = time.monotonic()
    wait_for("libvirtd's socket", lambda: daemon.poll() is None and connect(inst), 90, 0.3)
    inst.timings["libvirtd_s"] = round(time.monotonic() - t0, 2)
    conn = connect(inst)
    net = conn.networkDefineXML(network_xml())
    net.create()
    conn.nwfilterDefineXML(nwfilter_xml())
    conn.defineXML(domain_xml(str(image.kernel), str(image.initrd), str(root / "console.log")))
    inst.save()
    if boot:
        t0 = time.monotonic()
        conn.lookupByName(DOMAIN).create()
        wait_guest_ready(inst)
        inst.timings["boot_s"] = round(time.monotonic() - t0, 2)
    inst.timings["up_s"] = round(time.monotonic() - started, 2)
    inst.save()
    return inst


def _peer(inst: Instance) -> None:
    """A machine beyond the host: veth host ``vnrv-p0`` ↔ peer ``eth0``, routed to the NAT network."""
    run(["ip", "-n", inst.host_ns, "link", "add", "vnrv-p0", "type", "veth", "peer", "name", "eth0",
         "netns", inst.peer_ns])
    run(["ip", "-n", inst.host_ns, "addr", "add", f"{PEER_HOST_IP}/24", "dev", "vnrv-p0"])
    run(["ip", "-n", inst.host_ns, "link", "set", "vnrv-p0", "up"])
    for argv in (["link", "set", "lo", "up"], ["link", "set", "eth0", "up"],
                 ["addr", "add", f"{PEER_IP}/24", "dev", "eth0"],
                 ["route", "add", "default", "via", PEER_HOST_IP]):
        run(["ip", "-n", inst.peer_ns, *argv])


def _kill(pid: int, wait: float = 5.0) -> None:
    if pid <= 1 or not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            if not pid_alive(pid):
                return
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _ns_pids(ns: str) -> list[int]:
    proc = run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in proc.stdout.split()] if proc.returncode == 0 else []


def down(tag: str) -> list[str]:
    """Take down everything under ``tag``, by PID; returns what could not be removed."""
    root = Path(f"/tmp/vnrv-{tag}")
    host_ns, peer_ns = f"vnrv-{tag}-host", f"vnrv-{tag}-peer"
    state = root / "state.json"
    pids: dict[str, int] = {}
    if state.exists():
        try:
            data = json.loads(state.read_text())
            pids = data.get("pids", {})
            inst = Instance(**data)
            conn = connect(inst) if pids.get("libvirtd") and pid_alive(pids["libvirtd"]) else None
            if conn is not None:  # let libvirt stop QEMU and dnsmasq itself first
                for dom in conn.listAllDomains(0):
                    if dom.isActive():
                        dom.destroy()
                for net in conn.listAllNetworks(0):
                    if net.isActive():
                        net.destroy()
                conn.close()
        except Exception:  # a half-built instance: the PIDs below still end it
            pass
    for name in ("libvirtd", "dns"):
        if name in pids:
            _kill(pids[name])
    problems = []
    for ns in (host_ns, peer_ns):
        if not Path("/run/netns", ns).exists():
            continue
        for pid in _ns_pids(ns):  # only what we started can live in our namespaces
            _kill(pid)
        left = _ns_pids(ns)
        if left:
            problems.append(f"processes {left} in {ns}")
        if run(["ip", "netns", "del", ns], check=False).returncode != 0:
            problems.append(f"netns {ns}")
    if root.exists():
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():
            problems.append(str(root))
    return problems


def sweep() -> list[str]:
    """Take down test instances (tag ``t<PID>``) whose test process is gone."""
    tags = {p.name[len("vnrv-"):] for p in Path("/tmp").glob("vnrv-t*") if p.is_dir()}
    tags |= {p.name[len("vnrv-"):].rsplit("-", 1)[0] for p in Path("/run/netns").glob("vnrv-t*")} \
        if Path("/run/netns").is_dir() else set()
    swept = []
    for tag in sorted(tags):
        pid = tag[1:]
        if pid.isdigit() and not pid_alive(int(pid)):
            down(tag)
            swept.append(tag)
    return swept
