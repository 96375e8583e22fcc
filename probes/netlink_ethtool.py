"""ETHTOOL_GDRVINFO through pyroute2's ethtool ioctl layer: which driver runs each interface.

``link.list`` names the driver (``tun``, ``virtio_net``, ``veth``, ``bridge``)
because a tap and a veth fail in different ways. pyroute2 0.9 brings the
SIOCETHTOOL socket, the ``ifreq`` layout and its error types
(:class:`~pyroute2.ethtool.ioctl.NoSuchDevice`, ``NotSupportedError``) but no
driver-info command, and the kernel's ethtool netlink has none either, so the
``ethtool_drvinfo`` struct (linux/ethtool.h) is declared here. No capability is
needed.
"""

from __future__ import annotations

import ctypes
import fcntl
from collections.abc import Iterable

ETHTOOL_GDRVINFO = 0x3


class _DrvInfo(ctypes.Structure):
    """struct ethtool_drvinfo (196 bytes)."""

    _fields_ = [
        ("cmd", ctypes.c_uint32),
        ("driver", ctypes.c_char * 32),
        ("version", ctypes.c_char * 32),
        ("fw_version", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("erom_version", ctypes.c_char * 32),
        ("reserved2", ctypes.c_char * 12),
        ("n_priv_flags", ctypes.c_uint32),
        ("n_stats", ctypes.c_uint32),
        ("testinfo_len", ctypes.c_uint32),
        ("eedump_len", ctypes.c_uint32),
        ("regdump_len", ctypes.c_uint32),
    ]


def driver_names(names: Iterable[str]) -> dict[str, str]:
    """Interface name -> driver, for the interfaces whose driver answers.

    pyroute2's SIOCETHTOOL socket and ``ifreq`` layout, with one ``ifreq`` reused for
    every interface: ``IoctlEthtool.change_ifname`` builds a new one per name, which
    was half of this loop's time on a host with 2,000 interfaces (``bench netlink``).
    """
    from pyroute2.ethtool.ioctl import IFNAMSIZ, SIOCETHTOOL, IfReq, IoctlEthtool

    out: dict[str, str] = {}
    info = _DrvInfo()
    size = ctypes.sizeof(info)
    ifreq = IfReq()
    ifreq.gstrings = ctypes.cast(ctypes.byref(info), ctypes.c_void_p)
    ethtool = IoctlEthtool()
    try:
        for name in names:
            raw = name.encode()
            if len(raw) >= IFNAMSIZ:
                continue
            ctypes.memmove(ifreq.ifr_name, raw.ljust(IFNAMSIZ, b"\0"), IFNAMSIZ)
            ctypes.memset(ctypes.byref(info), 0, size)
            info.cmd = ETHTOOL_GDRVINFO
            try:
                fcntl.ioctl(ethtool.sock, SIOCETHTOOL, ifreq)
            except OSError:
                continue  # no driver info (lo), or the interface is gone since the dump
            driver = info.driver.decode("ascii", "replace")
            if driver:
                out[name] = driver
    finally:
        ethtool.close()
    return out
