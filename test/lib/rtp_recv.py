#!/usr/bin/env python3
"""Receive RTP on a UDP port for a while and check what a relay member must
see: one SSRC, sequence numbers without gaps, timestamps one packet apart,
the marker bit only on the first packet and the first one after a switch,
and which tone each stretch carries (G.711 decoded, zero crossings).

Usage: rtp_recv.py PORT SECONDS [KEYS AFTER PORTFILE]
  -> prints one line of JSON, exit 0.
With KEYS, AFTER seconds in it sends those keys as RFC 4733 events (PT 101,
the end packet three times) from the same socket to 127.0.0.1 at the port
written in PORTFILE: a member pressing its remote control."""
import json
import math
import socket
import struct
import sys
import time


def ulaw_to_linear(b):
    b = ~b & 0xff
    sign = b & 0x80
    exp = (b >> 4) & 7
    mant = b & 0x0f
    v = ((mant << 3) + 0x84) << exp
    v -= 0x84
    return -v if sign else v


def alaw_to_linear(b):
    b ^= 0x55
    sign = b & 0x80
    exp = (b >> 4) & 7
    mant = b & 0x0f
    v = (mant << 4) + 8 if exp == 0 else ((mant << 4) + 0x108) << (exp - 1)
    return v if sign else -v


def freq(samples):
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if a < 0 <= b)
    return crossings * 8000.0 / max(len(samples), 1)


def send_keys(s, keys, to_port):
    codes = {str(d): d for d in range(10)}
    codes.update({"*": 10, "#": 11})
    ssrc, seq, ts = 0x5eed, 1, 8000
    for key in keys:
        for n in range(4):   # start, then the end packet three times
            end_bit = 0x80 if n else 0
            hdr = struct.pack("!BBHII", 0x80, (0x80 if n == 0 else 0) | 101,
                              seq, ts, ssrc)
            ev = struct.pack("!BBH", codes[key], end_bit | 10, 800)
            s.sendto(hdr + ev, ("127.0.0.1", to_port))
            seq += 1
            time.sleep(0.02)
        ts += 1600
        time.sleep(0.1)


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    keys = sys.argv[3] if len(sys.argv) > 5 else None
    after = float(sys.argv[4]) if keys else 0
    portfile = sys.argv[5] if keys else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    start = time.time()
    end = start + seconds
    pkts = []
    while time.time() < end:
        if keys and time.time() - start >= after:
            try:
                send_keys(s, keys, int(open(portfile).read().strip()))
            except (OSError, ValueError):
                pass
            keys = None
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        if len(data) < 12:
            continue
        b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
        pkts.append((b1 >> 7, b1 & 0x7f, seq, ts, ssrc, data[12:]))
    out = {"packets": len(pkts)}
    if pkts:
        out["ssrcs"] = len({p[4] for p in pkts})
        out["seq_gaps"] = sum(1 for a, b in zip(pkts, pkts[1:])
                              if (a[2] + 1) & 0xffff != b[2])
        out["ts_steps"] = sorted({(b[3] - a[3]) & 0xffffffff
                                  for a, b in zip(pkts, pkts[1:])})
        marks = [i for i, p in enumerate(pkts) if p[0]]
        out["markers"] = marks
        # tone of each stretch between markers
        cuts = marks + [len(pkts)]
        tones = []
        for lo, hi in zip(cuts, cuts[1:]):
            dec = ulaw_to_linear if pkts[lo][1] == 0 else alaw_to_linear
            samples = [dec(x) for p in pkts[lo:hi] for x in p[5]]
            tones.append(round(freq(samples)))
        out["tones"] = tones
        out["pt"] = sorted({p[1] for p in pkts})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
