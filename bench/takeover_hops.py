#!/usr/bin/env python3
"""Where a takeover's re-INVITEs wait: every INVITE and its answers on
loopback, timed by the kernel as they leave their sender (a packet socket
on lo sees each datagram once outgoing, before any receive buffer can drop
it), split into hops:

    node -> proxy      the survivor sends its re-INVITE
    proxy -> party     Kamailio passes it on (its time: "proxy in")
    party -> proxy     the party (SIPp) answers 200 ("party")
    proxy -> node      Kamailio passes the answer on ("proxy out")
    node's next        from an answer reaching a node to that node's next
                       re-INVITE (its turnaround while re-INVITEs wait)

Usage: takeover_hops.py NODE_PORTS PROXY_PORT OUT   (root, in the
benchmark's namespace; NODE_PORTS comma-separated).  Captures until
SIGTERM or SIGINT, then writes the summary to OUT: per hop the count and
the 50th, 90th, 99th percentiles and the maximum in ms, the INVITEs sent
more than once (retransmissions, by hop), and the re-INVITEs a second per
node in each second from the first."""
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35


def header(text, name):
    for line in text.split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return ""


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def main():
    nodes = {int(p) for p in sys.argv[1].split(",")}
    proxy, out = int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(("lo", 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    s.settimeout(0.2)
    ev = []  # (t, sport, dport, kind, call-id)
    while not stop:
        try:
            pkt, anc, _, addr = s.recvmsg(65535, 64)
        except (socket.timeout, InterruptedError):
            continue
        if addr[2] != socket.PACKET_OUTGOING or len(pkt) < 42:
            continue
        if pkt[12:14] != b"\x08\x00" or pkt[23] != 17:
            continue
        ihl = (pkt[14] & 15) * 4
        sport, dport = struct.unpack("!HH", pkt[14 + ihl:18 + ihl])
        if sport not in nodes and dport not in nodes and \
           sport != proxy and dport != proxy:
            continue
        body = pkt[22 + ihl:].decode("latin-1")
        first = body.split("\r\n", 1)[0]
        cseq = header(body, "cseq")
        if not cseq.endswith("INVITE"):
            continue
        if first.startswith("INVITE "):
            kind = "INVITE"
        elif first.startswith("SIP/2.0 200"):
            kind = "200"
        else:
            continue
        t = 0.0
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, ns = struct.unpack("qq", data[:16])
                t = sec + ns / 1e9
        key = header(body, "call-id") + " " + cseq
        ev.append((t, sport, dport, kind, key))
    hop = {n: [] for n in ("proxy in", "party",
                           "proxy out", "node's next")}
    first = {}   # (key, leg) -> first time
    again = {"node -> proxy": 0, "proxy -> party": 0, "party -> proxy": 0,
             "proxy -> node": 0}
    answered = {}  # node port -> times an answer reached it
    sent = {}      # node port -> times it sent a re-INVITE
    for t, sp, dp, kind, key in ev:
        if kind == "INVITE" and sp in nodes:
            leg = "node -> proxy"
        elif kind == "INVITE" and sp == proxy and dp not in nodes:
            leg = "proxy -> party"
        elif kind == "200" and dp == proxy and sp not in nodes:
            leg = "party -> proxy"
        elif kind == "200" and sp == proxy and dp in nodes:
            leg = "proxy -> node"
        else:
            continue
        if (key, leg) in first:
            again[leg] += 1
            continue
        first[(key, leg)] = t
        if leg == "node -> proxy":
            sent.setdefault(sp, []).append(t)
        if leg == "proxy -> node":
            answered.setdefault(dp, []).append(t)
    for (key, leg), t in first.items():
        prev = {"proxy -> party": "node -> proxy",
                "party -> proxy": "proxy -> party",
                "proxy -> node": "party -> proxy"}.get(leg)
        if prev and (key, prev) in first:
            name = {"proxy -> party": "proxy in", "party -> proxy": "party",
                    "proxy -> node": "proxy out"}[leg]
            hop[name].append((t - first[(key, prev)]) * 1000)
    # turnaround: each answer at a node to the node's first re-INVITE after
    for port, ans in answered.items():
        out_t = sorted(sent.get(port, []))
        j = 0
        for a in sorted(ans):
            while j < len(out_t) and out_t[j] < a:
                j += 1
            if j < len(out_t):
                hop["node's next"].append((out_t[j] - a) * 1000)
    with open(out, "w") as f:
        f.write("hop count p50_ms p90_ms p99_ms max_ms\n")
        for name, v in hop.items():
            f.write("%s %d %.1f %.1f %.1f %.1f\n" % (
                name.replace(" ", "_"), len(v), pct(v, .5), pct(v, .9),
                pct(v, .99), max(v) if v else float("nan")))
        f.write("INVITEs sent again: %s\n" % ", ".join(
            "%s %d" % kv for kv in again.items()))
        for port, ts in sorted(sent.items()):
            t0 = min(ts)
            per = {}
            for t in ts:
                per[int(t - t0)] = per.get(int(t - t0), 0) + 1
            f.write("node %d re-INVITEs a second from its first (%.3f): %s\n"
                    % (port, t0, " ".join(str(per.get(i, 0))
                                          for i in range(max(per) + 1))))


if __name__ == "__main__":
    main()
