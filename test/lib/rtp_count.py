#!/usr/bin/env python3
"""Counts the RTP packets that reach a UDP port, as a capture does: a
packet socket on the loopback interface (AF_PACKET, root only) sees every
datagram the kernel delivers there, whoever receives it, so a softphone's
own port is watched without touching it.  Every flow (source address and
port, SSRC) is counted with the time of its first and last packet, the
payload types seen and the RFC 4733 events; the totals are written to
OUT (JSON, replaced atomically) every 0.2 s until SIGTERM.

    rtp_count.py PORT OUT [IFACE]

Exit 77 (the tests' "skipped") when a packet socket cannot be opened."""
import json
import os
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    iface = sys.argv[3] if len(sys.argv) > 3 else "lo"
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                          socket.htons(ETH_P_ALL))
        s.bind((iface, 0))
    except OSError as e:
        print("rtp_count: no packet socket: %s" % e, file=sys.stderr)
        sys.exit(77)
    s.settimeout(0.2)
    flows = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))

    def dump():
        rows = sorted(flows.values(), key=lambda f: f["first"])
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"total": sum(r["n"] for r in rows), "flows": rows,
                       "at": time.time()}, f)
        os.rename(tmp, out)

    last = 0
    while not stop:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            pkt = None
        except InterruptedError:
            continue
        now = time.time()
        # An outgoing copy and the delivery of the same datagram both
        # show on lo: count the delivery only.
        if pkt and addr[2] != socket.PACKET_OUTGOING and len(pkt) > 14 + 20:
            eth_type = struct.unpack("!H", pkt[12:14])[0]
            ip = pkt[14:]
            ihl = (ip[0] & 15) * 4
            if (eth_type == 0x0800 and ip[0] >> 4 == 4 and ip[9] == 17 and
                    len(ip) >= ihl + 8 + 12):
                sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
                rtp = ip[ihl + 8:]
                if dport == port and rtp[0] >> 6 == 2:
                    pt = rtp[1] & 0x7f
                    ssrc = struct.unpack("!I", rtp[8:12])[0]
                    src = "%s:%d" % (socket.inet_ntoa(ip[12:16]), sport)
                    dst = socket.inet_ntoa(ip[16:20])
                    key = (src, ssrc)
                    f = flows.get(key)
                    if f is None:
                        f = flows[key] = {"src": src, "dst": dst,
                                          "ssrc": ssrc, "first": now,
                                          "n": 0, "pts": [], "head": []}
                    f["n"] += 1
                    if len(f["head"]) < 20:
                        seq, ts = struct.unpack("!HI", rtp[2:8])
                        f["head"].append([round(now - f["first"], 4), seq,
                                          ts])
                    f["last"] = now
                    if pt not in f["pts"]:
                        f["pts"].append(pt)
        if now - last >= 0.2:
            dump()
            last = now
    dump()


if __name__ == "__main__":
    main()
