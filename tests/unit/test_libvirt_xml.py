"""The pure XML parsers, on XML shapes the test driver does not produce (live qemu XML)."""

from __future__ import annotations

from vnetdoctor.probes.libvirt_xml import (
    count_interfaces,
    has_agent_channel,
    network_has_dhcp,
    parse_interfaces,
    parse_network,
    reason_name,
    state_name,
)
from vnetdoctor.probes.rows_libvirt import DomainIfaceRow

# The shape of a running qemu domain's live XML (virsh dumpxml), trimmed.
LIVE_QEMU = """
<domain type='kvm' id='3'>
  <name>web</name>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:AB:CD:EF'/>
      <source network='default' portid='d3c1f0a2-5e9e-4f0e-9d8a-7d1c2b3a4f5e' bridge='virbr0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <link state='up'/>
      <alias name='net0'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:00:00:11'/>
      <source dev='eno1' mode='bridge'/>
      <target dev='macvtap0'/>
      <model type='e1000e'/>
      <alias name='net1'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:12'/>
      <model type='virtio'/>
    </interface>
    <channel type='unix'>
      <source mode='bind' path='/run/libvirt/qemu/channel/3-web/org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
    </channel>
  </devices>
</domain>
"""


def test_live_interfaces():
    rows = parse_interfaces("web", LIVE_QEMU)
    assert rows[0] == DomainIfaceRow(
        domain="web", mac="52:54:00:ab:cd:ef", type="network", source="default", target="vnet3",
        link_state="up", model="virtio", filterref="", bridge="virbr0", network="default", alias="net0",
    )
    assert (rows[1].type, rows[1].source, rows[1].target, rows[1].bridge) == ("direct", "eno1", "macvtap0", "")
    assert (rows[2].type, rows[2].source, rows[2].target, rows[2].link_state) == ("user", "", "", "up")
    assert count_interfaces(LIVE_QEMU) == 3
    assert has_agent_channel(LIVE_QEMU)
    assert not has_agent_channel("<domain><devices><channel type='spicevmc'><target type='virtio' "
                                 "name='com.redhat.spice.0'/></channel></devices></domain>")


def test_network_forward_modes_and_addresses():
    nat = parse_network(
        "<network><name>n</name><forward/><bridge name='virbr9'/>"
        "<ip family='ipv6' address='2001:db8::1' prefix='64'/>"
        "<ip address='192.0.2.1' netmask='255.255.255.128'><dhcp><host mac='52:54:00:00:00:01' ip='192.0.2.5'/>"
        "<host mac='52:54:00:00:00:02' ip='192.0.2.6'/></dhcp></ip></network>",
        active=False,
        autostart=True,
    )
    # <forward/> without a mode is NAT; the IPv6 block is skipped for the IPv4 one.
    assert (nat.forward, nat.address, nat.prefixlen, nat.static_hosts, nat.dhcp_start) == ("nat", "192.0.2.1", 25, 2, "")
    assert (nat.active, nat.autostart) == (False, True)
    assert network_has_dhcp(nat)
    bridged = parse_network(
        "<network><name>host-bridge</name><forward mode='bridge'/><bridge name='br0'/></network>",
        active=True,
        autostart=True,
    )
    assert (bridged.forward, bridged.bridge, bridged.address) == ("bridge", "br0", "")
    assert not network_has_dhcp(bridged)
    isolated = parse_network("<network><name>i</name><bridge name='virbr3'/></network>", active=True, autostart=False)
    assert isolated.forward == "isolated"


def test_state_and_reason_names():
    import libvirt

    assert [state_name(i) for i in range(8)] == [
        "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
    ]
    assert reason_name(libvirt, libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_IOERROR) == "ioerror"
    assert reason_name(libvirt, libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED) == "destroyed"
    assert reason_name(libvirt, libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED) == "booted"
