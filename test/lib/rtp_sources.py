#!/usr/bin/env python3
"""Who sent RTP to a port, and when: listens on 127.0.0.1:PORT for SECONDS
and writes JSON to OUT: the stretches of packets from one source address
(in order), each with its first and last arrival (seconds since the
listener started), packet count, SSRC, payload type and whether sequence
numbers ran on without a gap; and the silences between stretches.

Usage: rtp_sources.py PORT SECONDS OUT"""
import json
import socket
import struct
import sys
import time


def main():
    port, secs, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    t0 = time.monotonic()
    stretches = []
    while time.monotonic() - t0 < secs:
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        now = time.monotonic() - t0
        if len(data) < 12 or data[0] >> 6 != 2:
            continue
        seq, = struct.unpack("!H", data[2:4])
        ssrc, = struct.unpack("!I", data[8:12])
        key = "%s:%d" % src
        cur = stretches[-1] if stretches else None
        if not cur or cur["src"] != key:
            cur = {"src": key, "first": now, "last": now, "packets": 0,
                   "ssrc": ssrc, "pt": data[1] & 0x7F, "seq_gaps": 0,
                   "_seq": None}
            stretches.append(cur)
        if cur["_seq"] is not None and seq != (cur["_seq"] + 1) & 0xFFFF:
            cur["seq_gaps"] += 1
        cur["_seq"] = seq
        cur["last"] = now
        cur["packets"] += 1
    for st in stretches:
        del st["_seq"]
        st["first"] = round(st["first"], 3)
        st["last"] = round(st["last"], 3)
    gaps = [round(b["first"] - a["last"], 3)
            for a, b in zip(stretches, stretches[1:])]
    with open(out, "w") as f:
        json.dump({"stretches": stretches, "gaps": gaps}, f)


if __name__ == "__main__":
    main()
