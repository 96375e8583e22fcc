"""sysctl.net: which keys are kept and in what order (from the recorded guest's ``sysctl -a``)."""

from __future__ import annotations

from tests.unit.support.probe_recording import side
from vnetdoctor.probes import sysctls
from vnetdoctor.probes.rows import SysctlRow


def test_recorded_guest_sysctls():
    rows = sysctls.rows_from_sysctl_a(side("guest")["sysctl_a"]["stdout"])
    values = {r.key: r.value for r in rows}
    assert values["net.ipv4.icmp_echo_ignore_all"] == "1"
    assert values["net.ipv4.conf.eth0.rp_filter"] == "2"
    assert values["net.ipv4.conf.all.arp_ignore"] == "1"
    assert values["net.ipv4.ip_forward"] == "0"
    assert values["net.bridge.bridge-nf-call-iptables"] == "1"
    # globals first, then all, default, then interfaces; every interface has all six keys
    assert rows[0].key == "net.ipv4.ip_forward"
    conf_middles = [r.key.split(".")[3] for r in rows if r.key.startswith("net.ipv4.conf.")]
    assert conf_middles[:6] == ["all"] * 6 and conf_middles[6:12] == ["default"] * 6
    assert sorted(set(conf_middles)) == ["all", "default", "eth0", "lo"]
    assert all(conf_middles.count(m) == 6 for m in set(conf_middles))


def test_only_wanted_keys():
    text = """\
net.ipv4.ip_forward = 1
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.eth0/100.rp_filter = 1
net.ipv4.conf.eth0.accept_redirects = 1
net.ipv4.conf.eth0.neigh.rp_filter = 1
sysctl: permission denied on key 'net.ipv4.route.flush'
net.ipv6.conf.all.forwarding = 1
"""  # eth0/100 is sysctl(8)'s spelling of eth0.100
    assert sysctls.rows_from_sysctl_a(text) == [
        SysctlRow("net.ipv4.ip_forward", "1"),
        SysctlRow("net.ipv4.conf.eth0/100.rp_filter", "1"),
    ]


def test_key_to_path_restores_dots_in_interface_names():
    assert (
        sysctls._key_to_path("net.ipv4.conf.eth0/100.rp_filter")
        == "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"
    )
    assert (
        sysctls._key_to_path("net.bridge.bridge-nf-call-iptables")
        == "/proc/sys/net/bridge/bridge-nf-call-iptables"
    )


def test_local_read_of_this_namespace():
    rows = sysctls._sysctls_here()
    keys = {r.key for r in rows}
    assert "net.ipv4.ip_forward" in keys
    assert "net.ipv4.conf.lo.rp_filter" in keys
