#!/usr/bin/env python3
"""Receive RTP on a UDP port for a while and check what a relay member must
see: one SSRC, sequence numbers without gaps, timestamps one packet apart,
the marker bit only on the first packet and the first one after a switch,
and which tone each stretch carries (G.711 decoded, zero crossings).  For
MP2T (PT 33) it checks the transport stream inside (RFC 2250): whole
packets in sync, continuity counters of every PID without a gap, the PAT
present, and the bit rate the stream arrived at.

Usage: rtp_recv.py PORT|GROUP:PORT SECONDS [KEYS AFTER PORTFILE]
  GROUP:PORT joins that multicast group on 127.0.0.1 (a multicast member).
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


def ts_check(pkts, times):
    """The transport stream carried by the MP2T packets, stretch by stretch
    (a marker bit starts one: a switch).  Continuity counters are checked
    within a stretch; ttff_ms is, for each stretch, the time from its first
    packet to the first packet a decoder can start from: a video packet
    with a payload start and the random_access_indicator, after a PAT and
    the PMT it names (which says which PID is the video)."""
    out = {"ts_packets": 0, "ts_sync_errors": 0, "cc_errors": 0, "pat": 0,
           "ttff_ms": []}
    nbytes = 0
    pids = set()
    cc = {}
    state = None
    for p, t in zip(pkts, times):
        body = p[5]
        nbytes += len(body)
        if p[0] or state is None:       # a new stretch
            cc = {}
            state = {"t0": t, "pmt_pid": None, "video": None, "done": False}
        if len(body) % 188:
            out["ts_sync_errors"] += 1
            continue
        for off in range(0, len(body), 188):
            ts = body[off:off + 188]
            out["ts_packets"] += 1
            if ts[0] != 0x47:
                out["ts_sync_errors"] += 1
                continue
            pid = (ts[1] & 0x1f) << 8 | ts[2]
            pusi = ts[1] & 0x40
            afc = (ts[3] >> 4) & 3
            pay = 4 + (1 + ts[4] if afc & 2 else 0)
            if pid == 0:
                out["pat"] += 1
                if pusi and pay < 180:
                    sec = ts[pay + 1 + ts[pay]:]
                    # first program: skip table header (8 bytes)
                    prog = sec[8:12]
                    if len(prog) == 4:
                        state["pmt_pid"] = (prog[2] & 0x1f) << 8 | prog[3]
            elif pid == state["pmt_pid"] and pusi and state["video"] is None:
                sec = ts[pay + 1 + ts[pay]:]
                slen = (sec[1] & 0x0f) << 8 | sec[2]
                info = (sec[10] & 0x0f) << 8 | sec[11]
                k, end = 12 + info, 3 + slen - 4
                while k + 5 <= end:
                    stype, epid = sec[k], (sec[k + 1] & 0x1f) << 8 | sec[k + 2]
                    if stype in (0x01, 0x02, 0x10, 0x1b, 0x24):
                        state["video"] = epid
                        break
                    k += 5 + ((sec[k + 3] & 0x0f) << 8 | sec[k + 4])
            elif (pid == state["video"] and not state["done"] and pusi and
                  afc & 2 and ts[4] > 0 and ts[5] & 0x40):
                state["done"] = True
                out["ttff_ms"].append(round((t - state["t0"]) * 1000, 1))
            if pid == 0x1fff or not ts[3] & 0x10:
                continue
            pids.add(pid)
            c = ts[3] & 0x0f
            if pid in cc and (cc[pid] + 1) & 15 != c:
                out["cc_errors"] += 1
            cc[pid] = c
    out["pids"] = sorted(pids)
    span = times[-1] - times[0] if len(times) > 1 else 0
    out["bitrate"] = round(nbytes * 8 / span) if span else 0
    return out


def open_socket(where):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if ":" in where:
        group, port = where.split(":")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((group, int(port)))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
    else:
        s.bind(("127.0.0.1", int(where)))
    return s


def main():
    seconds = float(sys.argv[2])
    keys = sys.argv[3] if len(sys.argv) > 5 else None
    after = float(sys.argv[4]) if keys else 0
    portfile = sys.argv[5] if keys else None
    s = open_socket(sys.argv[1])
    s.settimeout(0.2)
    start = time.time()
    end = start + seconds
    pkts = []
    times = []
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
        times.append(time.time())
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
        cuts = sorted({0, *marks}) + [len(pkts)]
        tones = []
        for lo, hi in zip(cuts, cuts[1:]):
            if pkts[lo][1] == 33:
                continue
            dec = ulaw_to_linear if pkts[lo][1] == 0 else alaw_to_linear
            samples = [dec(x) for p in pkts[lo:hi] for x in p[5]]
            tones.append(round(freq(samples)))
        out["tones"] = tones
        out["pt"] = sorted({p[1] for p in pkts})
        video = [p for p in pkts if p[1] == 33]
        if video:
            out.update(ts_check(video, [t for t, p in zip(times, pkts)
                                        if p[1] == 33]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
