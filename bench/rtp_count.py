#!/usr/bin/env python3
"""One UDP port, many relay legs: counts the RTP packets that arrive.  Each
SIGUSR1 prints "time packets ssrcs" (so far) on stdout; SIGTERM ends it.
The benchmark takes two such lines around its window.
Usage: rtp_count.py PORT > log"""
import signal
import socket
import sys
import time

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
SO_RCVBUFFORCE = 33  # Linux; Python does not name it
try:  # above net.core.rmem_max when root: a burst of 1,000 legs fits
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
s.bind(("127.0.0.1", port))
count = 0
ssrcs = set()


def report(*_):
    print("%.6f %d %d" % (time.time(), count, len(ssrcs)), flush=True)


signal.signal(signal.SIGUSR1, report)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
buf = bytearray(2048)
while True:
    n = s.recv_into(buf)
    if n >= 12:
        count += 1
        ssrcs.add(bytes(buf[8:12]))
