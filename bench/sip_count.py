#!/usr/bin/env python3
"""Counts the SIP requests sent on loopback to one UDP port, as they leave
the sender (a packet socket on lo: it sees each datagram once, before any
receive buffer can drop it), by method and Via branch: a request sent
again (a retransmission) has the branch of one already seen.  It also
times, by the kernel's clock, each INVITE to the port and the first 200
to it from the port (the re-INVITE's own round trip at the answerer), and
from each such 200 to the next INVITE to the port (the sender's
turnaround while INVITEs wait).

Usage: sip_count.py PORT OUT [RAW]   (root, in the benchmark's namespace)
Until SIGTERM or SIGINT; then writes to OUT one line per method:
    METHOD sent unique
and, when INVITEs were answered, two lines of round trips in ms:
    rtt count p50 p99 max      INVITE to the port -> its first 200
    turn count p50 p99 max     a 200 from the port -> the next INVITE
RAW, if given, gets every INVITE and 200 to an INVITE, one a line:
"time dir call-id cseq" (dir ">" to the port, "<" from it)."""
import ctypes
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
SO_ATTACH_FILTER = 26


def port_filter(port):
    """A classic BPF program for the packet socket: only the outgoing copy
    of a UDP datagram from or to PORT reaches this process.  Filtered in
    Python, every datagram on lo twice (outgoing and incoming) took this
    counter half a core while the switch ran, on a 2-core machine where
    the processes measured need both."""
    ins = [
        (0x20, 0, 0, 0xFFFFF004),  # ld pkttype (SKF_AD_PKTTYPE)
        (0x15, 0, 10, 4),          # jeq PACKET_OUTGOING, else drop
        (0x28, 0, 0, 12),          # ldh [12] ethertype
        (0x15, 0, 8, 0x0800),      # jeq IPv4, else drop
        (0x30, 0, 0, 23),          # ldb [23] protocol
        (0x15, 0, 6, 17),          # jeq UDP, else drop
        (0xB1, 0, 0, 14),          # ldxb 4*([14]&0xf)
        (0x48, 0, 0, 14),          # ldh [x+14] source port
        (0x15, 2, 0, port),        # jeq PORT: keep
        (0x48, 0, 0, 16),          # ldh [x+16] destination port
        (0x15, 0, 1, port),        # jeq PORT: keep, else drop
        (0x06, 0, 0, 0xFFFF),      # ret keep
        (0x06, 0, 0, 0),           # ret drop
    ]
    # (jumps count instructions from the next one)
    return b"".join(struct.pack("HBBI", *i) for i in ins), len(ins)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def header(rest, names):
    for h in rest.split(b"\r\n"):
        if not h:
            break
        k, _, v = h.partition(b":")
        if k.strip().lower() in names:
            return v.strip()
    return b""


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    raw = sys.argv[3] if len(sys.argv) > 3 else None
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    prog, n = port_filter(port)
    buf = ctypes.create_string_buffer(prog)
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                 struct.pack("HL", n, ctypes.addressof(buf)))
    s.bind(("lo", 0))
    # the loop only keeps each datagram and its time: parsed after the
    # run, so that the counter takes little of the machine meanwhile
    kept = []
    stop = []

    class Stop(Exception):
        pass

    def on_signal(*_):
        stop.append(1)
        raise Stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not stop:
            pkt, anc, _, _ = s.recvmsg(65535, 64)
            kept.append((pkt, anc))
    except Stop:
        pass
    sent, seen = {}, {}
    ev = []  # (time, ">" or "<", call-id, cseq)
    for pkt, anc in kept:
        # the filter let through only outgoing UDP over IPv4 from or to
        # the port (each datagram once, before any receive buffer)
        ihl = (pkt[14] & 0x0F) * 4
        udp = 14 + ihl
        sport, dport = struct.unpack("!HH", pkt[udp:udp + 4])
        payload = pkt[udp + 8:]
        line, _, rest = payload.partition(b"\r\n")
        method = line.split(b" ", 1)[0]
        t = 0.0
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, ns = struct.unpack("qq", data[:16])
                t = sec + ns / 1e9
        if dport == port and method == b"INVITE":
            ev.append((t, ">", header(rest, (b"call-id", b"i")),
                       header(rest, (b"cseq",))))
        elif sport == port and line.startswith(b"SIP/2.0 200"):
            cseq = header(rest, (b"cseq",))
            if cseq.endswith(b"INVITE"):
                ev.append((t, "<", header(rest, (b"call-id", b"i")), cseq))
        if dport != port or method.startswith(b"SIP/") or \
                not method.isalpha():
            continue
        branch = b""
        for h in rest.split(b"\r\n"):
            if h[:4].lower() == b"via:" or h[:2].lower() == b"v:":
                i = h.find(b"branch=")
                if i >= 0:
                    branch = h[i + 7:].split(b";")[0].split(b",")[0]
                break
        m = method.decode()
        sent[m] = sent.get(m, 0) + 1
        seen.setdefault(m, set()).add(branch)
    first_out, rtt, turn = {}, [], []
    answered = set()
    last_answer = []  # answers not yet followed by an INVITE
    for t, d, cid, cseq in ev:
        key = (cid, cseq)
        if d == ">":
            first_out.setdefault(key, t)
            for a in last_answer:
                turn.append((t - a) * 1000.0)
            last_answer = []
        elif key in first_out and key not in answered:
            answered.add(key)
            rtt.append((t - first_out[key]) * 1000.0)
            last_answer.append(t)
    with open(out, "w") as f:
        for m in sorted(sent):
            f.write("%s %d %d\n" % (m, sent[m], len(seen[m])))
        for name, v in (("rtt", rtt), ("turn", turn)):
            if v:
                f.write("%s %d %.2f %.2f %.2f\n" % (
                    name, len(v), pct(v, 50), pct(v, 99), max(v)))
    if raw:
        with open(raw, "w") as f:
            for t, d, cid, cseq in ev:
                f.write("%.6f %s %s %s\n" % (t, d, cid.decode("latin-1"),
                                             cseq.decode("latin-1")
                                             .replace(" ", "_")))


if __name__ == "__main__":
    main()
