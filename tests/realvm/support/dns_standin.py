"""A stand-in upstream DNS server for the NAT network's dnsmasq, inside the harness namespace.

dnsmasq forwards to the machine's resolver unless told otherwise (real-vm.md); the
network XML names ``127.0.0.1`` as its only forwarder instead, and this answers
there: every query gets an empty NOERROR answer, or REFUSED while the file named by
the second argument says ``refuse`` (the "resolver that refuses" fault: dnsmasq then
answers the guest nothing, measured, so the guest sees a resolver that times out).
Nothing is forwarded anywhere. Run as ``python3 dns_standin.py ADDRESS MODE_FILE``.
"""

import socket
import struct
import sys


def main() -> None:
    address, mode_file = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    while True:
        data, peer = sock.recvfrom(4096)
        if len(data) < 12:
            continue
        try:
            with open(mode_file, encoding="ascii") as fh:
                refuse = fh.read().strip() == "refuse"
        except OSError:
            refuse = False
        qid, flags = struct.unpack("!HH", data[:4])
        rcode = 5 if refuse else 0
        # QR, the query's opcode and RD, RA; the question echoed, no answers.
        reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | rcode
        end = 12
        while end < len(data) and data[end]:
            end += 1 + data[end]
        question = data[12:end + 5]  # the name, its root label, type and class
        sock.sendto(struct.pack("!HHHHHH", qid, reply_flags, 1, 0, 0, 0) + question, peer)


if __name__ == "__main__":
    main()
