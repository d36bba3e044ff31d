#!/usr/bin/env python3
"""Play transport stream files as multicast RTP feeds, as a headend would:
seven 188-byte packets to an RTP packet (RFC 2250, PT 33), at the file's
own rate (bytes over its PCR span), in a loop, on 127.0.0.1.

Usage: ts_send.py SECONDS FILE GROUP:PORT [FILE GROUP:PORT ...]"""
import socket
import struct
import sys
import time


def pcr_rate(data):
    """Bytes per second between the first and the last PCR of one PID."""
    first = last = pid0 = None
    for i in range(0, len(data) - 187, 188):
        p = data[i:i + 188]
        if p[3] & 0x20 and p[4] >= 7 and p[5] & 0x10:
            pid = (p[1] & 0x1f) << 8 | p[2]
            if pid0 is None:
                pid0 = pid
            if pid != pid0:
                continue
            base = p[6] << 25 | p[7] << 17 | p[8] << 9 | p[9] << 1 | p[10] >> 7
            t = (base * 300 + ((p[10] & 1) << 8 | p[11])) / 27e6
            if first is None:
                first = (i, t)
            last = (i, t)
    return (last[0] - first[0]) / (last[1] - first[1])


def main():
    seconds = float(sys.argv[1])
    feeds = []
    for f, dest in zip(sys.argv[2::2], sys.argv[3::2]):
        data = open(f, "rb").read()
        group, port = dest.split(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     socket.inet_aton("127.0.0.1"))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
        feeds.append({"data": data, "to": (group, int(port)), "sock": s,
                      "rate": pcr_rate(data), "off": 0, "seq": 0,
                      "ssrc": 0x7e5700 + len(feeds), "cc": {}})
    start = time.time()
    while time.time() - start < seconds:
        now = time.time() - start
        for fd in feeds:
            # send what is due by now at the file's rate
            due = int(now * fd["rate"]) // 1316
            while fd["seq"] < due:
                i = fd["off"]
                chunk = bytearray(fd["data"][i:i + 1316])
                fd["off"] = (i + len(chunk)) % len(fd["data"])
                # continuity counters run on across the loop, as a
                # headend's would
                for k in range(0, len(chunk), 188):
                    pid = (chunk[k + 1] & 0x1f) << 8 | chunk[k + 2]
                    if pid == 0x1fff or not chunk[k + 3] & 0x10:
                        continue
                    cc = fd["cc"].get(pid)
                    cc = chunk[k + 3] & 0x0f if cc is None else (cc + 1) & 15
                    fd["cc"][pid] = cc
                    chunk[k + 3] = (chunk[k + 3] & 0xf0) | cc
                ts = int(fd["seq"] * 1316 / fd["rate"] * 90000) & 0xffffffff
                hdr = struct.pack("!BBHII", 0x80, 33, fd["seq"] & 0xffff,
                                  ts, fd["ssrc"])
                fd["sock"].sendto(hdr + bytes(chunk), fd["to"])
                fd["seq"] += 1
        time.sleep(0.005)


if __name__ == "__main__":
    main()
