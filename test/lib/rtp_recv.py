#!/usr/bin/env python3
"""Receive RTP on a UDP port for a while and check what a relay member must
see: one SSRC, sequence numbers without gaps, timestamps one packet apart,
the marker bit only on the first packet and the first one after a switch,
and which tone each stretch carries (G.711 decoded, zero crossings).

Usage: rtp_recv.py PORT SECONDS  -> prints one line of JSON, exit 0."""
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


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    end = time.time() + seconds
    pkts = []
    while time.time() < end:
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
