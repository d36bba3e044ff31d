#!/usr/bin/env python3
"""One UDP port, many relay legs: for each SSRC, the arrival time of its
second marked packet (the first is the leg's start, the second the switch).
Usage: relay_rx.py PORT SECONDS > log ("ssrc time" lines)."""
import socket
import struct
import sys
import time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", port))
s.settimeout(0.2)
marks = {}
end = time.time() + seconds
while time.time() < end:
    try:
        data = s.recv(2048)
    except socket.timeout:
        continue
    now = time.time()
    if len(data) >= 12 and data[1] & 0x80:
        ssrc = struct.unpack("!I", data[8:12])[0]
        marks.setdefault(ssrc, []).append(now)
for ssrc, ts in marks.items():
    if len(ts) >= 2:
        print(ssrc, "%.6f" % ts[1])
