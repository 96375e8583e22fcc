"""Row types of the libvirt and guest-agent probes: what the Tables screen and the rules read.

Field order is column order: the most useful first, so that an 80-column view
can show a prefix of the fields and still make sense. Field names are a
contract (rules key on them, recorded sessions carry them): add fields with
defaults, never rename.
"""

from __future__ import annotations

from .base import row
from .rowkey import Row


@row
class DomainRow(Row):
    """One libvirt domain and whether it can be on the network at all.

    Key: the domain's name; its id changes on every start, state is state.
    """

    KEY_FIELDS = ("name",)

    name: str
    state: str  # running, paused, shutoff, crashed, pmsuspended, blocked, shutdown, nostate
    reason: str = ""  # why it is in that state (paused: user / ioerror / …; shutoff: destroyed / …)
    autostart: bool = False
    persistent: bool = True
    agent_channel: bool = False  # the XML has a virtio-serial channel org.qemu.guest_agent.0
    interfaces: int = 0  # number of <interface> elements
    id: int = -1  # -1 when not running
    uuid: str = ""


@row
class DomainIfaceRow(Row):
    """One ``<interface>`` of a domain's XML: where its host side plugs in.

    Key: domain and MAC; the tap (target) and alias are reassigned on every start.
    """

    KEY_FIELDS = ("domain", "mac")

    domain: str
    mac: str
    type: str  # network, bridge, direct, user, ethernet, vhostuser, …
    source: str  # network name, bridge name or host device ("" for user networking)
    target: str = ""  # the host-side device (tap, vnet0); "" while the domain is shut off
    link_state: str = "up"  # <link state='…'/>; libvirt's default is up
    model: str = ""  # virtio, e1000, rtl8139, …
    filterref: str = ""  # nwfilter name (clean-traffic, …)
    bridge: str = ""  # bridge named in the XML itself (type=bridge, or live XML of type=network)
    network: str = ""  # the libvirt network (type=network)
    alias: str = ""  # libvirt's device alias (net0), running domains only


@row
class NetworkRow(Row):
    """One libvirt network: is it up, how does it forward, which addresses does it hand out.

    Key: the network's name.
    """

    KEY_FIELDS = ("name",)

    name: str
    active: bool
    autostart: bool
    forward: str  # nat, route, open, bridge, passthrough, private, vepa, hostdev, isolated
    bridge: str = ""  # virbr0 (or the host bridge for forward mode bridge)
    address: str = ""  # the host's IPv4 address on the network ("" when none)
    prefixlen: int = 0
    dhcp_start: str = ""
    dhcp_end: str = ""
    static_hosts: int = 0  # <host> entries in the DHCP section
    forward_dev: str = ""  # <forward dev='…'/>: the uplink NAT/route traffic leaves by
    persistent: bool = True
    uuid: str = ""
    host_macs: tuple[str, ...] = ()  # MACs with a static <host> entry in the DHCP section


@row
class DnsmasqRow(Row):
    """The dnsmasq process libvirt runs for one network (none: the network hands out nothing).

    Key: the network's name; the pid changes on every start.
    """

    KEY_FIELDS = ("network",)

    network: str
    pid: int
    conf: str = ""  # its --conf-file (libvirt: …/dnsmasq/NETWORK.conf)


@row
class LeaseRow(Row):
    """One DHCP lease handed out by a libvirt network's dnsmasq.

    Key: network, MAC and IP: a lease is that binding; expiry moves on renewal.
    """

    KEY_FIELDS = ("network", "mac", "ip")

    network: str
    mac: str
    ip: str
    prefixlen: int = 0
    hostname: str = ""
    expiry: int = 0  # epoch seconds
    iface: str = ""  # the network's bridge
    clientid: str = ""


@row
class IfStatRow(Row):
    """Traffic counters of one domain interface, as the hypervisor counts them (host side).

    Key: domain and MAC; the host device (target) is renamed on every start, the
    counters are what changes.
    """

    KEY_FIELDS = ("domain", "mac")

    domain: str
    target: str
    mac: str = ""
    rx_packets: int = 0
    tx_packets: int = 0
    rx_errors: int = 0
    tx_errors: int = 0
    rx_dropped: int = 0
    tx_dropped: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0


@row
class PathRow(Row):
    """guest MAC → host tap → bridge → libvirt network: the path the engine follows.

    ``tap_present`` is None when the host side was not looked at (the test
    driver invents tap names; a remote URI's host is not this machine); ``note``
    then says why.

    Key: domain and MAC, as for an interface; the tap name changes on every start.
    """

    KEY_FIELDS = ("domain", "mac")

    domain: str
    mac: str
    tap: str  # host device ("" while shut off, or for user networking)
    bridge: str  # the bridge the tap should be a port of ("" for direct/user)
    network: str = ""  # libvirt network name, "" for type=bridge/direct
    link_state: str = "up"  # from the XML: the only place <link state='down'/> shows
    network_active: bool | None = None  # None when the interface is not on a libvirt network
    tap_present: bool | None = None
    tap_operstate: str = ""  # UP, DOWN, … as the host sees it
    tap_master: str = ""  # the bridge the tap really is a port of
    type: str = ""  # the interface type (network, bridge, direct, user, …)
    note: str = ""


@row
class GuestLinkRow(Row):
    """A guest interface as qemu-guest-agent's ``guest-network-get-interfaces`` reports it.

    The field names match :class:`~.rows.LinkRow` where the agent gives the same
    fact. The agent does not report up/down state, so there is deliberately no
    ``operstate``/``admin_up`` here: ``link.list`` through ``guest-exec`` of
    ``ip -j link`` is where that comes from.

    Key: the guest interface's name.
    """

    KEY_FIELDS = ("name",)

    name: str
    mac: str
    addresses: tuple[str, ...] = ()  # "198.51.100.7/24", IPv4 first
    rx_packets: int = 0
    tx_packets: int = 0
    rx_errors: int = 0
    tx_errors: int = 0
    rx_dropped: int = 0
    tx_dropped: int = 0
