"""What a Windows guest's agent would answer: NO WINDOWS IMAGE EXISTS HERE.

These replies are not recorded from a real guest. They are built by hand from the
documented output of the cmdlets (Microsoft Learn: Get-NetAdapter, Get-NetIPConfiguration,
Get-NetRoute, Find-NetRoute, Get-NetFirewallProfile, Get-NetFirewallRule,
Get-NetFirewallPortFilter; qemu-guest-agent's ``guest-get-osinfo`` schema) as
Windows PowerShell 5.1's ``ConvertTo-Json`` prints them: enums as numbers unless
the script casts them to [string], one object without a list around it, a list for
several. Field names are the cmdlets' property names, exactly.
"""

from __future__ import annotations

OSINFO = {
    "name": "Microsoft Windows", "kernel-release": "20348", "version": "Microsoft Windows Server 2022",
    "variant": "server", "pretty-name": "Windows Server 2022 Standard", "version-id": "2022",
    "variant-id": "server", "kernel-version": "10.0", "machine": "x86_64", "id": "mswindows",
}

ADAPTERS = """{
    "Name":  "Ethernet",
    "InterfaceIndex":  6,
    "MacAddress":  "52-54-00-00-00-02",
    "Status":  "Up",
    "AdminStatus":  1,
    "MediaConnectionState":  1,
    "MtuSize":  1500,
    "InterfaceDescription":  "Red Hat VirtIO Ethernet Adapter"
}"""

ADDRESSES = """[
    {
        "InterfaceAlias":  "Ethernet",
        "InterfaceIndex":  6,
        "IPAddress":  "198.51.100.20",
        "PrefixLength":  24,
        "AddressFamily":  "IPv4"
    },
    {
        "InterfaceAlias":  "Ethernet",
        "InterfaceIndex":  6,
        "IPAddress":  "fe80::5054:ff:fe00:2%6",
        "PrefixLength":  64,
        "AddressFamily":  "IPv6"
    }
]"""

ROUTES = """[
    {
        "DestinationPrefix":  "0.0.0.0/0",
        "NextHop":  "198.51.100.1",
        "InterfaceAlias":  "Ethernet",
        "InterfaceIndex":  6,
        "RouteMetric":  0,
        "AddressFamily":  "IPv4",
        "Protocol":  "NetMgmt"
    },
    {
        "DestinationPrefix":  "198.51.100.0/24",
        "NextHop":  "0.0.0.0",
        "InterfaceAlias":  "Ethernet",
        "InterfaceIndex":  6,
        "RouteMetric":  256,
        "AddressFamily":  "IPv4",
        "Protocol":  "Local"
    }
]"""

LOOKUP = """[
    {
        "InterfaceAlias":  "Ethernet",
        "IPAddress":  "198.51.100.20",
        "NextHop":  null,
        "DestinationPrefix":  null
    },
    {
        "InterfaceAlias":  "Ethernet",
        "IPAddress":  null,
        "NextHop":  "0.0.0.0",
        "DestinationPrefix":  "198.51.100.0/24"
    }
]"""

PROFILES = """[
    {"Name":  "Domain", "Enabled":  "True", "DefaultInboundAction":  "NotConfigured"},
    {"Name":  "Private", "Enabled":  "True", "DefaultInboundAction":  "NotConfigured"},
    {"Name":  "Public", "Enabled":  "True", "DefaultInboundAction":  "Block"}
]"""

# "File and Printer Sharing (Echo Request - ICMPv4-In)" exists disabled by default; enabled
# for Domain and Private only, Public stays closed to ping.
RULES_PRIVATE_ONLY = """{
    "Name":  "FPS-ICMP4-ERQ-In",
    "DisplayName":  "File and Printer Sharing (Echo Request - ICMPv4-In)",
    "Action":  "Allow",
    "Profile":  "Domain, Private",
    "Protocol":  "ICMPv4",
    "IcmpType":  "8"
}"""

RULES_BLOCK = """[
    {"Name": "FPS-ICMP4-ERQ-In", "DisplayName": "File and Printer Sharing (Echo Request - ICMPv4-In)",
     "Action": "Allow", "Profile": "Any", "Protocol": "ICMPv4", "IcmpType": "8"},
    {"Name": "Block-Ping", "DisplayName": "Block-Ping", "Action": "Block", "Profile": "Any",
     "Protocol": "ICMPv4", "IcmpType": "8"}
]"""
