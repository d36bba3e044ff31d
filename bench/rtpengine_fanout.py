#!/usr/bin/env python3
"""rtpengine as the relay peer of bench/relay.sh: one audio stream fanned
out to N subscribers, driven by rtpengine's ng control protocol (bencode
over UDP).  The stream is published once ("publish"); each subscriber gets
its copy by "subscribe request" and "subscribe answer", with its SDP
pointing at the receivers' port.  Then this script is the channel: one
PCMU packet of 160 bytes every 20 ms (what tvspaced's Music Radio sends),
sent to rtpengine's publisher port, for SECONDS.
Usage: rtpengine_fanout.py NG_PORT SRC_PORT RX_PORT N SECONDS
Prints "ready" once every subscriber is set up."""
import os
import socket
import struct
import sys
import time


def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k])
                               for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdec(s, i=0):
    c = s[i:i + 1]
    if c == b"i":
        j = s.index(b"e", i)
        return int(s[i + 1:j]), j + 1
    if c == b"l":
        out, i = [], i + 1
        while s[i:i + 1] != b"e":
            v, i = bdec(s, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while s[i:i + 1] != b"e":
            k, i = bdec(s, i)
            out[k.decode()], i = bdec(s, i)
        return out, i + 1
    j = s.index(b":", i)
    n = int(s[i:j])
    return s[j + 1:j + 1 + n], j + 1 + n


class Ng:
    """One ng client: each request a cookie, each answer matched by it."""

    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2)
        self.n = 0

    def __call__(self, command, **args):
        self.n += 1
        cookie = b"%d_%d" % (os.getpid(), self.n)
        args = {k.replace("_", "-"): v for k, v in args.items()}
        args["command"] = command
        msg = cookie + b" " + benc(args)
        for _ in range(5):
            self.s.sendto(msg, self.addr)
            try:
                while True:
                    data = self.s.recv(65536)
                    c, _, body = data.partition(b" ")
                    if c == cookie:
                        break
            except socket.timeout:
                continue
            r = bdec(body)[0]
            if r.get("result") not in (b"ok", b"pong"):
                sys.exit("rtpengine %s: %s" % (command, r))
            return r
        sys.exit("rtpengine %s: no answer" % command)


def sdp(user, port):
    return ("v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
            "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n" % (user, port))


def media_port(body):
    for line in body.decode().split("\r\n"):
        if line.startswith("m=audio "):
            return int(line.split()[1])
    sys.exit("rtpengine: no m=audio in\n" + body.decode())


def main():
    ng_port, src_port, rx_port, n = map(int, sys.argv[1:5])
    seconds = float(sys.argv[5])
    ng = Ng(ng_port)
    ng("ping")
    call = "relay-bench-%d" % os.getpid()
    r = ng("publish", call_id=call, from_tag="channel",
           sdp=sdp("channel", src_port))
    pub_port = media_port(r["sdp"])
    for i in range(n):
        r = ng("subscribe request", call_id=call, from_tag="channel",
               to_tag="m%d" % i)
        tag = r.get("to-tag", b"m%d" % i).decode()
        ng("subscribe answer", call_id=call, to_tag=tag,
           sdp=sdp("m%d" % i, rx_port).replace("sendonly", "recvonly"))
    print("ready", flush=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", src_port))
    payload = bytes(160)
    seq, ts, ssrc = 0, 0, 0x7ee5
    t = time.monotonic()
    end = t + seconds
    while t < end:
        s.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xffff, ts, ssrc) +
                 payload, ("127.0.0.1", pub_port))
        seq, ts, t = seq + 1, ts + 160, t + 0.02
        time.sleep(max(0, t - time.monotonic()))
    ng("delete", call_id=call)


main()
