"""Consistent renaming of IPv4, IPv6 and MAC addresses, in text, JSON and captured frames.

An exported session goes into a ticket, a chat or a vendor's bug tracker, so
``--redact`` must hide which machines and networks were involved while keeping
the report *useful*: the same address becomes the same pseudonym everywhere in
one export (report, raw record and pcap agree), and the relations a diagnosis
rests on survive:

- IPv4 is renamed per /24 network, host octet kept: ``198.18.0.1`` and
  ``198.18.0.11`` stay in one subnet (and ``.1`` still looks like a gateway),
  while a guest on another /24 stays visibly elsewhere (``ip.subnet_mismatch``).
  Pseudonym networks come from the documentation ranges (192.0.2/24,
  198.51.100/24, 203.0.113/24, then 198.18.0.0/15) and never coincide with a
  network of the original, so no original address can survive by accident.
  Link-local 169.254.x.y stays link-local (it *is* the evidence of a DHCP
  failure).
- IPv6 is renamed per /64 (to 2001:db8:0:N::/64; fe80::/64 stays fe80::/64) and
  per interface id: an EUI-64 id derived from a MAC becomes the EUI-64 id of that
  MAC's pseudonym, so a link-local address still matches its interface's MAC.
  Solicited-node multicast follows the unicast address it was derived from.
- MAC addresses become ``02:00:00:xx:xx:xx`` (locally administered).
- Addresses that identify nobody are kept, because they carry meaning:
  0.0.0.0/8, 127/8, multicast (224/4, ff00::/8, 01:00:5e…, 33:33…), 240/4 (so
  netmasks such as 255.255.255.0 and the broadcast address survive), ``::``,
  ``::1``, fe80:: addresses with a small interface id, and ff:ff:ff:ff:ff:ff.

Frames are rewritten byte-wise (Ethernet, VLAN tags, Linux cooked headers, ARP,
IPv4, IPv6, ICMP/ICMPv6 including the packet quoted in an error, NDP, DHCP,
STP BPDUs, and any other place the original bytes occur), then every checksum
that covers a changed byte (IPv4 header, ICMP, ICMPv6, TCP, UDP, also inside
quoted packets) is corrected incrementally (RFC 1624), which works on frames cut
short by the snap length and keeps an offloaded, not-yet-computed checksum
exactly as wrong as it was. Frames of a link type not listed in
:mod:`vnetdoctor.probes.frame_layout` still get every known address's bytes replaced,
but their checksums are left as they are.

Names are renamed too, consistently, by kind (sos clean does the same for host
names): host names (this machine's, the session's recorded ``hostname``, hosts
in libvirt URIs, DHCP lease host names) → ``host-a``; libvirt domains →
``vm-a``; libvirt networks → ``net-a``; network namespaces → ``ns-a`` (so
``netns:vnd-guest`` → ``netns:ns-a``); interfaces keep the letters they start
with, which say what they are (``vnet0`` → ``vnet-a``, ``br0`` → ``br-a``,
``eth0`` → ``eth-a``, ``virbr0`` → ``virbr-a``; a name with no leading letters
→ ``if-a``). Names are learnt from the fields that hold them (a LinkRow's
``name``, a route's ``dev``, a vantage ``netns:NAME``, ``ip netns exec NAME``…)
and then replaced as whole tokens in every string, fix argv lists included.
Names that identify nothing (``lo``, ``default``, ``local``, ``localhost``…) are kept.

Not renamed (say so wherever a redacted export is shown): DNS names, libvirt
UUIDs, and names that occur only in free text. An address that occurs *only*
inside a frame payload this module does not parse (a DNS answer, an application
protocol) is never learnt, so it is neither renamed nor checked.

The final check (:func:`find_leaks`) searches the output, NFKC-normalised (so
full-width ``１９８．１８．０．１１`` counts), for every original value in every
spelling: dotted IPv4 with or without zero padding (``198.018.000.011``),
embedded in a word (``host198.18.0.11``), as an integer (``3323068427``) and as
hex in either byte order; IPv6 in any text form or as hex; MACs with colons,
dashes, Cisco dots (``5254.00ab.cdef``) or no separator; and every original
name. An export in which one survived is refused.
"""

from .leaks import find_leaks
from .names import machine_hostnames
from .pseudonyms import RedactionError
from .redactor import Redactor

__all__ = ["RedactionError", "Redactor", "find_leaks", "machine_hostnames"]
