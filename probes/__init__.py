"""Everything that touches the system: netlink, procfs, firewall, packets, libvirt.

Probes never import Textual and never print; each returns a frozen
:class:`~vnetdoctor.probes.base.Observation`. See ``base`` for the contract.
"""
