#!/usr/bin/env python3
"""Counts the SIP requests sent on loopback to one UDP port, as they leave
the sender (a packet socket on lo: it sees each datagram once, before any
receive buffer can drop it), by method and Via branch: a request sent
again (a retransmission) has the branch of one already seen.

Usage: sip_count.py PORT OUT     (root, in the benchmark's namespace)
Until SIGTERM or SIGINT; then writes to OUT one line per method:
    METHOD sent unique since_first
where since_first is the time of the first request of that method since
the start (for lining up with other clocks, it is the epoch time)."""
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("lo", 0))
    sent, seen = {}, {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    s.settimeout(0.2)
    while not stop:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        # loopback: an Ethernet header of zeros; each datagram is seen
        # once outgoing (pkttype 4) and once incoming: keep the outgoing
        if addr[2] != socket.PACKET_OUTGOING or len(pkt) < 42:
            continue
        eth_type = struct.unpack("!H", pkt[12:14])[0]
        if eth_type != 0x0800:
            continue
        ihl = (pkt[14] & 0x0F) * 4
        if pkt[23] != 17:  # UDP
            continue
        udp = 14 + ihl
        dport = struct.unpack("!H", pkt[udp + 2:udp + 4])[0]
        if dport != port:
            continue
        payload = pkt[udp + 8:]
        line, _, rest = payload.partition(b"\r\n")
        method = line.split(b" ", 1)[0]
        if method.startswith(b"SIP/") or not method.isalpha():
            continue
        branch = b""
        for h in rest.split(b"\r\n"):
            if h[:4].lower() == b"via:" or h[:2].lower() == b"v:":
                i = h.find(b"branch=")
                if i >= 0:
                    branch = h[i + 7:].split(b";")[0].split(b",")[0]
                break
        m = method.decode()
        sent[m] = sent.get(m, 0) + 1
        seen.setdefault(m, set()).add(branch)
    with open(out, "w") as f:
        for m in sorted(sent):
            f.write("%s %d %d\n" % (m, sent[m], len(seen[m])))


if __name__ == "__main__":
    main()
