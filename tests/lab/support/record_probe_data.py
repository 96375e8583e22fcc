"""Record what the kernel and iproute2 say about the probe lab, for the unit tests.

Run as root from the repository: ``.venv/bin/python tests/lab/support/record_probe_data.py``.
It builds the namespaces of :mod:`probe_topology` (prefix ``vnd-rec<pid>-``),
records the raw netlink dumps the probes decode, the ``ip -j``/``bridge -j``
output the guest path parses, the firewall tools' output and ``sysctl -a``,
writes them to ``tests/unit/data/probes/`` and removes the namespaces.

Unit tests then check, without root, that the lean decoder, pyroute2's decoder
and the iproute2 JSON parsers all agree on the same recorded state.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # run as a script: the repository root

from tests.lab.support.probe_topology import probe_lab, sh
from vnetdoctor.probes import iproute_json, netlink_query
from vnetdoctor.probes.netlink_query import (
    ADDRESSES,
    LINKS,
    NEIGHBOURS,
    ROUTES,
    RTEXT_FILTER_BRVLAN,
)
from vnetdoctor.probes.netlink_wire import AF_BRIDGE, NLMSG_ERROR, NLMSG_HEADER
from vnetdoctor.probes.nsexec import call_in, run_command
from vnetdoctor.probes.vantage import Vantage

OUT = HERE.parents[1] / "unit" / "data" / "probes"
LOOKUPS = [
    "198.18.0.11",
    "198.51.100.7",
    "192.0.2.130",
    "192.0.2.70",
    "192.0.2.40",
    "198.18.0.1",
    "198.19.1.1",
]
FIREWALL_COMMANDS = [
    ("nft", "-j", "list", "ruleset"),
    ("nft", "-a", "list", "ruleset"),
    ("iptables-nft-save", "-c"),
    ("ip6tables-nft-save", "-c"),
    ("ebtables-nft-save", "-c"),
    ("iptables-legacy-save", "-c"),
    ("ip6tables-legacy-save", "-c"),
]


def _dumps() -> dict[str, list[str]]:
    requests = {
        "link": (LINKS, 0, 0),
        "addr": (ADDRESSES, 0, 0),
        "route": (ROUTES, 0, 0),
        "neigh": (NEIGHBOURS, 0, 0),
        "bridge_link": (LINKS, AF_BRIDGE, 0),
        "bridge_vlan": (LINKS, AF_BRIDGE, RTEXT_FILTER_BRVLAN),
        "fdb": (NEIGHBOURS, AF_BRIDGE, 0),
    }
    return {
        name: [chunk.hex() for chunk in netlink_query.dump_raw(kind, family, ext_mask)]
        for name, (kind, family, ext_mask) in requests.items()
    }


def _lookups() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    from pyroute2 import IPRSocket
    from pyroute2.netlink import NLM_F_REQUEST
    from pyroute2.netlink.rtnl.rtmsg import rtmsg

    for dst in LOOKUPS:
        msg = rtmsg()
        msg["family"] = socket.AF_INET
        msg["dst_len"] = 32
        msg["flags"] = netlink_query.RTM_F_LOOKUP_TABLE
        msg["attrs"] = [("RTA_DST", dst)]
        with IPRSocket(groups=0) as sock:
            sock.put(msg, ROUTES[0], NLM_F_REQUEST)
            chunk = sock.socket.recv(1 << 16)
        _len, mtype, _flags, _seq, _pid = NLMSG_HEADER.unpack_from(chunk, 0)
        (code,) = struct.unpack_from("=i", chunk, 16)
        if mtype == NLMSG_ERROR and code < 0:
            out[dst] = {"errno": -code, "strerror": os.strerror(-code)}
        else:
            out[dst] = {"chunk": chunk.hex()}
    return out


def _state_here() -> dict[str, object]:
    names = netlink_query.interface_names()
    links = netlink_query.link_dump()
    return {
        "names": {str(k): v for k, v in names.items()},
        "drivers": netlink_query.ethtool_drivers(link.name for link in links),
        "dumps": _dumps(),
        "lookups": _lookups(),
    }


def _command(vantage: Vantage, argv: tuple[str, ...]) -> dict[str, object]:
    result = run_command(vantage, argv, timeout=20.0)
    return {
        "argv": list(argv),
        "rc": result.returncode,
        "stdout": result.stdout,
        "stderr": result.stderr,
    }


def record(vantage: Vantage) -> dict[str, object]:
    state = call_in(vantage, _state_here)
    ip_commands = {
        "link": iproute_json.IP_LINK,
        "addr": iproute_json.IP_ADDR,
        "route4": iproute_json.IP4_ROUTE,
        "route6": iproute_json.IP6_ROUTE,
        "neigh": iproute_json.IP_NEIGH,
        "bridge_vlan": iproute_json.BRIDGE_VLAN,
    }
    state["ip"] = {name: _command(vantage, argv) for name, argv in ip_commands.items()}
    state["ip_route_get"] = {
        dst: _command(vantage, ("ip", "-j", "-d", "route", "get", dst)) for dst in LOOKUPS
    }
    return state


def main() -> int:
    if os.geteuid() != 0:
        print("record_probe_data: needs root", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with probe_lab(f"vnd-rec{os.getpid()}-") as lab:
        host = Vantage("netns", lab.host)
        guest = Vantage("netns", lab.guest)
        recorded = {"host": record(host), "guest": record(guest)}
        recorded["guest"]["firewall"] = {
            " ".join(argv): _command(guest, argv) for argv in FIREWALL_COMMANDS
        }
        sysctl_a = _command(guest, ("sysctl", "-a"))
        sysctl_a["stdout"] = "\n".join(
            line
            for line in str(sysctl_a["stdout"]).splitlines()
            if line.startswith(("net.ipv4.", "net.bridge."))
        )
        recorded["guest"]["sysctl_a"] = sysctl_a
        recorded["lab"] = {"host": lab.host, "guest": lab.guest, "has_legacy": lab.has_legacy}
        recorded["versions"] = {
            "kernel": os.uname().release,
            "iproute2": sh("ip", "-V").stdout.strip(),
            "nft": sh("nft", "--version").stdout.strip(),
        }
    path = OUT / "lab_state.json"
    path.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
