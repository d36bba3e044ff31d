#!/usr/bin/env python3
"""Raw SIP requests whose answers cannot be sent, or can only be sent after
a name is resolved (test/e2e/nta_ack.sh, test/e2e/dns_stall.sh).

  rawsip.py ack VARIANT    an INVITE to the factory URI as alice whose
      answer cannot be delivered (VARIANT below), then ACKs with the same
      branch every 100 ms for a second, as a client that never hears the
      answer would send them (RFC 3261 17.1.1.3)
  rawsip.py variants       the names of the variants, one a line
  rawsip.py options [N]    N OPTIONS (1) one after another; prints each
      round trip in ms; exit status 1 when one is not answered in 15 s
  rawsip.py stall HOST [N] a request with version SIP/7.0 whose Via names
      HOST (the server answers 505 statelessly, where the Via says), then
      after 50 ms N OPTIONS (3) from another port; the same again without
      rport in the Via, then a SIP/2.0 OPTIONS whose Via has maddr=HOST;
      prints the round trip of each OPTIONS and where the 505s came, the
      slowest round trip last as "slowest: MS"; exit status 1 when an
      OPTIONS is not answered in 15 s, or a 505 did not come where RFC
      3261 18.2.2 and RFC 3581 send it (the source address; with rport
      the source port, without the Via's port, 5060 here)
  rawsip.py agent          one OPTIONS; prints the answer's User-Agent and
      Server headers ("User-Agent: none" when there is none)

The server is at $SIP_HOST:$SIP_PORT (127.0.0.1:5070)."""
import math
import os
import socket
import sys
import time

SERVER = (os.environ.get("SIP_HOST", "127.0.0.1"),
          int(os.environ.get("SIP_PORT", "5070")))
SDP = (b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
       b"c=IN IP4 232.10.0.1\r\nt=0 0\r\nm=video 5004 RTP/AVP 33\r\n")


def tag():
    return os.urandom(6).hex().encode()


def request(method, via, call_id, cseq_method=None, body=b"",
            version=b"SIP/2.0", extra=b"", user=b"share"):
    return (b"%s sip:%s@tvspace.test %s\r\n"
            b"Via: %s\r\n"
            b"Max-Forwards: 70\r\n"
            b"From: <sip:alice@tvspace.test>;tag=%s\r\n"
            b"To: <sip:%s@tvspace.test>\r\n"
            b"Call-ID: %s\r\n"
            b"CSeq: 1 %s\r\n"
            b"Contact: <sip:alice@127.0.0.1:5099>\r\n"
            b"%s%s"
            b"Content-Length: %d\r\n\r\n") % (
                method, user, version, via, call_id[:12], user, call_id,
                cseq_method or method, extra,
                b"Content-Type: application/sdp\r\n" if body else b"",
                len(body)) + body


FILL = b"<fill>"

# name: (transport, the top Via's sent-by and parameters, the rest of the
# Via stack, close the connection after the INVITE).  Every Via names the
# branch; each variant has an answer that cannot be delivered.
VARIANTS = {
    # The PROTOS-like case of the report: a host and port 0.
    "udp-localhost-port0": ("udp", b"localhost:0", b"", False),
    "udp-address-port0": ("udp", b"127.0.0.1:0", b"", False),
    "udp-port-too-big": ("udp", b"127.0.0.1:70000", b"", False),
    # The source's address and port 0: received= changes nothing.
    "udp-name-port0": ("udp", b"nosuchhost.invalid:0", b"", False),
    # A host that does not resolve, on a good port: the answer goes to
    # received=, the source address, and is sent (a control).
    "udp-name": ("udp", b"nosuchhost.invalid:5099", b"", False),
    # maddr wins over received (RFC 3261 18.2.2): a name nobody resolves,
    # and the limited broadcast address, which sendto() refuses.
    "udp-maddr-name": ("udp", b"127.0.0.1:5099;maddr=nosuchhost.invalid",
                       b"", False),
    "udp-maddr-broadcast": ("udp", b"127.0.0.1:5099;maddr=255.255.255.255",
                            b"", False),
    # A compression the server does not have (RFC 3486).
    "udp-comp-sigcomp": ("udp", b"127.0.0.1:5099;comp=sigcomp", b"", False),
    # An answer bigger than a datagram can carry (EMSGSIZE): the request
    # is near 64 KB of Via headers, which every answer copies.
    "udp-answer-too-big": ("udp", b"127.0.0.1:5099", FILL, False),
    # Over TCP: port 0 in the Via (the answer goes back on the connection),
    # and a connection closed before the answer (it then goes to the
    # Via's address and the source port, RFC 3261 18.2.2, where nobody
    # listens).
    "tcp-port0": ("tcp", b"localhost:0", b"", False),
    "tcp-closed": ("tcp", b"127.0.0.1:5099", b"", True),
}


class Sender:
    def __init__(self, transport):
        self.transport = transport
        self.udp = None
        self.conn = None
        if transport == "udp":
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))

    def send(self, data):
        if self.udp:
            self.udp.sendto(data, SERVER)
            return
        if self.conn is None:
            self.conn = socket.create_connection(SERVER, timeout=2)
        self.conn.sendall(data)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def ack(name):
    transport, sent_by, more_vias, close = VARIANTS[name]
    branch = b"z9hG4bK-" + tag()
    via = b"SIP/2.0/%s %s;branch=%s%s" % (transport.upper().encode(),
                                          sent_by, branch, more_vias)
    call_id = b"%s-%s@127.0.0.1" % (name.encode(), tag())
    s = Sender(transport)
    invite = request(b"INVITE", via, call_id, body=SDP)
    if more_vias == FILL:
        # Up to 65,400 bytes, which a datagram carries; the answer, with
        # the server's own headers and SDP, does not fit in one.
        via = via.replace(FILL, b"")
        extra = b"\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-" + \
            b"p" * 40
        n = (65400 - len(invite)) // len(extra)
        via += extra * n
        invite = request(b"INVITE", via, call_id, body=SDP)
    s.send(invite)
    if close:
        s.close()
    sent = 0
    for _ in range(10):
        time.sleep(0.1)
        try:
            s.send(request(b"ACK", via, call_id))
            sent += 1
        except OSError:
            break   # the server is gone: the caller finds out
        if close:
            s.close()
    s.close()
    print("%s: INVITE with Via %s, then %d ACKs" %
          (name, sent_by.decode(), sent))
    return 0


def options_once(sock, port, answer=None):
    call_id = b"opt-%s@127.0.0.1" % tag()
    via = b"SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s;rport" % (
        sock.getsockname()[0].encode(), port, tag())
    start = time.monotonic()
    sock.sendto(request(b"OPTIONS", via, call_id), SERVER)
    deadline = start + 15
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            break
        if call_id in data and data.startswith(b"SIP/2.0 200"):
            if answer is not None:
                answer.append(data)
            return (time.monotonic() - start) * 1000
    return None


def agent():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((SERVER[0], 0))
    got = []
    if options_once(sock, sock.getsockname()[1], got) is None:
        print("OPTIONS: no answer in 15 s")
        return 1
    head = got[0].split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    for name in ("User-Agent", "Server"):
        values = [line.split(":", 1)[1].strip()
                  for line in head.split("\r\n")[1:]
                  if line.split(":", 1)[0].strip().lower() == name.lower()]
        print("%s: %s" % (name, values[0] if values else "none"))
    return 0


def options(n):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((SERVER[0], 0))
    port = sock.getsockname()[1]
    for i in range(n):
        ms = options_once(sock, port)
        if ms is None:
            print("OPTIONS %d: no answer in 15 s" % (i + 1))
            return 1
        print("OPTIONS %d: 200 in %.1f ms" % (i + 1, ms))
    return 0


def stall(host, n):
    """The SIP/7.0 request twice: with rport (RFC 3581: the 505 comes back
    to the source port) and without (RFC 3261 18.2.2: to the source
    address, received=, and the Via's port: 5060, where a socket of ours
    listens).  After each, n OPTIONS from another socket, timed."""
    worst = 0.0
    late = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    late.bind(("127.0.0.1", 5060))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    failed = 0
    for rport in (True, False):
        bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        bad.bind(("127.0.0.1", 0))
        call_id = b"v7-%s@127.0.0.1" % tag()
        via = b"SIP/2.0/UDP %s;branch=z9hG4bK-%s%s" % (
            host.encode(), tag(), b";rport" if rport else b"")
        bad.sendto(request(b"OPTIONS", via, call_id, version=b"SIP/7.0"),
                   SERVER)
        time.sleep(0.05)
        for i in range(n):
            ms = options_once(sock, port)
            if ms is None:
                print("OPTIONS %d: no answer in 15 s" % (i + 1))
                return 1
            print("OPTIONS %d after SIP/7.0 with Via %s%s: 200 in %.1f ms"
                  % (i + 1, host, ";rport" if rport else "", ms))
            worst = max(worst, ms)
        where = bad if rport else late
        where.settimeout(15)
        got = None
        try:
            while True:
                data, _ = where.recvfrom(65535)
                if call_id in data:
                    got = data.split(b"\r\n", 1)[0].decode()
                    break
        except socket.timeout:
            pass
        print("the SIP/7.0 request%s: %s at 127.0.0.1:%d" % (
            " with rport" if rport else "", got or "nothing",
            where.getsockname()[1]))
        if not got or not got.startswith("SIP/2.0 505"):
            failed = 1
    # RFC 3261 18.2.2: maddr wins over received; a name there would be
    # looked up for any answer, SIP/2.0 too.  Such a request is dropped.
    bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad.bind(("127.0.0.1", 0))
    via = b"SIP/2.0/UDP 127.0.0.1:%d;maddr=%s;branch=z9hG4bK-%s" % (
        bad.getsockname()[1], host.encode(), tag())
    bad.sendto(request(b"OPTIONS", via, b"maddr-%s@127.0.0.1" % tag()),
               SERVER)
    time.sleep(0.05)
    for i in range(n):
        ms = options_once(sock, port)
        if ms is None:
            print("OPTIONS %d: no answer in 15 s" % (i + 1))
            return 1
        print("OPTIONS %d after SIP/2.0 with maddr=%s: 200 in %.1f ms"
              % (i + 1, host, ms))
        worst = max(worst, ms)
    print("slowest: %d" % math.ceil(worst))
    return failed


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "ack":
        return ack(sys.argv[2])
    if len(sys.argv) == 2 and sys.argv[1] == "variants":
        print("\n".join(VARIANTS))
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "agent":
        return agent()
    if len(sys.argv) in (2, 3) and sys.argv[1] == "options":
        return options(int(sys.argv[2]) if len(sys.argv) == 3 else 1)
    if len(sys.argv) in (3, 4) and sys.argv[1] == "stall":
        return stall(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4
                     else 3)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
