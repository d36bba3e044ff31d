#!/usr/bin/env python3
"""A channel's headend for bench/relay.sh: sends one PCMU stream (160 bytes
every 20 ms, as tvspaced's Music Radio) into a multicast group on loopback
(interface 127.0.0.1, TTL 0: it stays on this host) until it is stopped.
Usage: rtp_feed.py GROUP PORT"""
import signal
import socket
import struct
import sys
import time

group, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
             socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
payload = bytes([0xff]) * 160
seq, ts, ssrc = 0, 0, 0xfeed
t = time.monotonic()
while True:
    s.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xffff, ts, ssrc) + payload,
             (group, port))
    seq, ts, t = seq + 1, ts + 160, t + 0.02
    time.sleep(max(0, t - time.monotonic()))
