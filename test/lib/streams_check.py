#!/usr/bin/env python3
"""Channels of a picture and its sound (two RTP streams) as a relay member
sees them, without a browser: the SDP of several m= lines answered line by
line, the payload types each leg sends, the keyframe a video leg starts at,
switches between VP8 and H.264 channels without a new offer, a refused
switch to another media, an audio-only member, and a member whose offer
lacks the new channel's encoding.  Run by test/e2e/streams.sh against
tvspaced serving etc/headend-lineup.m3u with scripts/headend.sh running.

    streams_check.py SIP_PORT RESULTS.json [RESTART_DIR]
With RESTART_DIR, before the end the script writes RESTART_DIR/stop and
waits for RESTART_DIR/started: the test stops tvspaced (SIGTERM, the
dialogs kept) and starts it again, and the members' legs must come back
from the re-INVITE that takes each dialog up.
Exit status 0 when every check passed."""
import json
import os
import re
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipclient  # noqa: E402

SERVER = ("127.0.0.1", int(sys.argv[1]))
OUT = sys.argv[2]
RESTART = sys.argv[3] if len(sys.argv) > 3 else None
PORTS = {}  # user: {media: our RTP port}, for answers to re-INVITEs
REINVITES = []
failures = []
figures = {}


def ok(what):
    print("streams: ok: " + what, flush=True)


def fail(what):
    failures.append(what)
    print("streams: FAIL: " + what, flush=True)


def check(cond, what):
    (ok if cond else fail)(what)
    return cond


def offer(audio_port, video_port, channel=None, video=True, h264=True,
          extra_line=True):
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-",
             "c=IN IP4 127.0.0.1", "t=0 0"]
    if channel:
        lines.append("a=tvspace-channel:" + channel)
    lines += ["m=audio %d RTP/AVP 0 8" % audio_port,
              "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=recvonly"]
    if video:
        fmts = "100 102" if h264 else "100"
        lines += ["m=video %d RTP/AVP %s" % (video_port, fmts),
                  "a=rtpmap:100 VP8/90000"]
        if h264:
            lines += ["a=rtpmap:102 H264/90000",
                      "a=fmtp:102 packetization-mode=1;"
                      "profile-level-id=42e01f"]
        lines.append("a=recvonly")
    if extra_line:
        lines += ["m=application 9 UDP/DTLS/SCTP webrtc-datachannel"]
    return "\r\n".join(lines) + "\r\n"


class Rx:
    """An RTP receiver: every packet with the time it came."""

    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.s.bind(("127.0.0.1", port))
        self.s.setblocking(False)
        self.pkts = []

    def poll(self):
        while True:
            try:
                d = self.s.recv(2048)
            except BlockingIOError:
                return
            if len(d) >= 12:
                self.pkts.append({
                    "t": time.monotonic(), "pt": d[1] & 0x7f,
                    "m": bool(d[1] & 0x80),
                    "seq": int.from_bytes(d[2:4], "big"),
                    "ts": int.from_bytes(d[4:8], "big"),
                    "ssrc": int.from_bytes(d[8:12], "big"),
                    "p": d[12:40]})


RXS = []


def answer_sdp(user, offer_body):
    """Our answer to the server's re-offer: each of its lines, ours at our
    port (recvonly) or refused."""
    out = ["v=0", "o=- 2 2 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1",
           "t=0 0"]
    for block in re.split(r"\r?\n(?=m=)", offer_body)[1:]:
        lines = block.splitlines()
        f = lines[0][2:].split()
        port = PORTS[user].get(f[0]) if f[1] != "0" else None
        out.append("m=%s %d %s %s" % (f[0], port or 0, f[2], " ".join(f[3:])))
        if port:
            out += [x for x in lines[1:]
                    if x.startswith(("a=rtpmap", "a=fmtp"))]
            out.append("a=recvonly")
    return "\r\n".join(out) + "\r\n"


def answer_invite(c, r):
    """200 with our SDP to a re-INVITE inside one of our dialogs."""
    REINVITES.append(c.user)
    body = answer_sdp(c.user, r.body)
    lines = ["SIP/2.0 200 OK"]
    lines += ["Via: %s" % v for v in r.all("via")]
    for h in ("from", "to", "call-id", "cseq"):
        lines.append("%s: %s" % (h, r.get(h)))
    lines += ["Contact: <sip:%s@%s:%d>" % (c.user, c.addr, c.port),
              "Content-Type: application/sdp",
              "Content-Length: %d" % len(body.encode())]
    c.send("\r\n".join(lines) + "\r\n\r\n" + body)


def pump(parties, seconds):
    """Receive RTP and answer the server's requests for @seconds."""
    end = time.monotonic() + seconds
    msgs = []
    while time.monotonic() < end:
        socks = [c.sock for c in parties] + [r.s for r in RXS]
        ready, _, _ = select.select(socks, [], [],
                                    max(0, end - time.monotonic()))
        for r in RXS:
            if r.s in ready:
                r.poll()
        for c in parties:
            if c.sock in ready:
                m = c.receive(0)
                if m and m.request == "INVITE":
                    answer_invite(c, m)
                elif m and m.request:
                    c.answer_request(m)
                    if m.request == "MESSAGE":
                        msgs.append((c.user, m.body))
    return msgs


def vp8_key(p):
    """The first packet of a VP8 key frame (RFC 7741)."""
    if not p or not (p[0] & 0x10) or p[0] & 0x07:
        return False
    off = 1
    if p[0] & 0x80:
        x = p[1]
        off = 2
        if x & 0x80:
            off += 2 if p[off] & 0x80 else 1
        if x & 0x40:
            off += 1
        if x & 0x30:
            off += 1
    return not (p[off] & 1) and p[off + 3:off + 6] == b"\x9d\x01\x2a"


def h264_sps(p):
    """A packet that carries an SPS: single, or in a STAP-A."""
    t = p[0] & 0x1f
    if t == 7:
        return True
    if t == 24:
        off = 1
        while off + 2 < len(p):
            n = int.from_bytes(p[off:off + 2], "big")
            if p[off + 2] & 0x1f == 7:
                return True
            off += 2 + n
    return False


def continuous(pkts):
    return all((b["seq"] - a["seq"]) & 0xffff == 1 and b["ssrc"] == a["ssrc"]
               for a, b in zip(pkts, pkts[1:]))


def switch(d, party_list, to, rxv, want_pt, key):
    """/switch TO; the first video packet of the new channel: when (ms
    after the 200), whether it starts a keyframe."""
    n = len(rxv.pkts)
    t0 = time.monotonic()
    r = d.indialog("MESSAGE", "/switch " + to)
    t200 = time.monotonic()
    if not check(r.status == 200, "/switch %s: %d" % (to, r.status)):
        return None
    msgs = pump(party_list, 1.6)
    new = [p for p in rxv.pkts[n:] if p["pt"] == want_pt]
    if not check(new, "video of %s in payload type %d" % (to, want_pt)):
        return None
    # Where the old channel is in the same payload type, its packets go on
    # until the new channel's keyframe; where it is in another, nothing of
    # the new channel may come before its keyframe.
    after = rxv.pkts[n:]
    k = next((i for i, p in enumerate(after)
              if p["pt"] == want_pt and key(p["p"])), None)
    if not check(k is not None, "%s's video starts with a keyframe after "
                 "the switch" % to):
        return None
    first = after[k]
    old_pt = rxv.pkts[n - 1]["pt"] if n else None
    check(old_pt == want_pt or all(p["pt"] != want_pt for p in after[:k]),
          "%s's first packet after the switch starts a keyframe" % to)
    # the old channel's packets go on until the new one's key frame:
    # the leg's sequence runs through both
    check(continuous(rxv.pkts[n - 1:]),
          "the video leg keeps its SSRC and sequence into %s" % to)
    check(all(p["pt"] == want_pt for p in after[k:]),
          "nothing of the old channel after the new one's keyframe")
    return {"ms": round(1000 * (first["t"] - t200)),
            "answered_ms": round(1000 * (t200 - t0)), "msgs": msgs}


def restart(parties, ra, rv, rca, rcv):
    """tvspaced stops keeping the dialogs and starts again: each dialog is
    taken up by a re-INVITE that offers the session as it was, and the
    legs (new ports) send where the answers say, in the agreed types."""
    for p in (ra, rv, rca, rcv):
        p.poll()
    n0 = {id(p): len(p.pkts) for p in (ra, rv, rca, rcv)}
    open(os.path.join(RESTART, "stop"), "w").close()
    end = time.monotonic() + 60
    while not os.path.exists(os.path.join(RESTART, "started")):
        pump(parties, 0.2)
        if time.monotonic() > end:
            fail("tvspaced did not come back")
            return
    n = {id(p): len(p.pkts) for p in (ra, rv, rca, rcv)}
    pump(parties, 4)
    check(sorted(set(REINVITES)) == ["alice", "bob", "carol"],
          "each member's dialog taken up by a re-INVITE: %s" % REINVITES)
    after = {id(p): p.pkts[n[id(p)]:] for p in (ra, rv, rca, rcv)}
    # The new tvspaced's legs may send before the test sees it started,
    # and the old one's last packets may come after the stop was asked:
    # the new leg is where the sequence breaks (a new leg, a new base).
    since = rv.pkts[max(n0[id(rv)] - 1, 0):]
    new_v = next((since[i:] for i in range(1, len(since))
                  if (since[i]["seq"] - since[i - 1]["seq"]) & 0xffff != 1),
                 since[1:])
    head = new_v[:3]
    check(head and all(p["pt"] == 102 for p in head) and
          h264_sps(head[0]["p"]),
          "alice's video again, H.264 in 102 from an SPS: %d packets "
          "(the first: %s)" % (len(new_v), [
              (p["pt"], p["seq"], p["p"][0] & 0x1f if p["p"] else None)
              for p in new_v[:4]]))
    check(after[id(ra)] and all(p["pt"] == 0 for p in after[id(ra)]),
          "alice's sound again, on its own port (learnt from her answer):"
          " %d packets" % len(after[id(ra)]))
    check(after[id(rcv)] and all(p["pt"] == 100 for p in after[id(rcv)]),
          "carol's video again, still VP8 (she stayed on red): %d packets"
          % len(after[id(rcv)]))
    check(after[id(rca)], "carol's sound again: %d packets"
          % len(after[id(rca)]))


def main():
    alice = sipclient.Client(SERVER, port=5091, user="alice")
    bob = sipclient.Client(SERVER, port=5092, user="bob")
    carol = sipclient.Client(SERVER, port=5093, user="carol")
    parties = [alice, bob, carol]
    ra, rv = Rx(41010), Rx(41012)
    rb, rca, rcv = Rx(41020), Rx(41030), Rx(41032)
    PORTS.update({"alice": {"audio": 41010, "video": 41012},
                  "bob": {"audio": 41020},
                  "carol": {"audio": 41030, "video": 41032}})
    RXS.extend([ra, rv, rb, rca, rcv])

    # alice starts a space on red: three lines answered, in order.
    d = sipclient.Dialog(alice, "share")
    r = d.send("INVITE", offer(41010, 41012, "red"), "application/sdp")
    if not check(r.status == 200, "alice starts on red: %d" % r.status):
        return
    m = re.findall(r"^m=[^\r\n]*", r.body, re.M)
    print(r.body)
    check(len(m) == 3, "three m= lines answered: %s" % m)
    check(re.match(r"m=audio [1-9]\d* RTP/AVP 0$", m[0]) is not None,
          "audio: PCMU only (no channel of two streams sends PCMA)")
    check(re.match(r"m=video [1-9]\d* RTP/AVP 100 102$", m[1]) is not None,
          "video: VP8 and H.264, the offer's payload types")
    check(m[2] == "m=application 0 UDP/DTLS/SCTP webrtc-datachannel",
          "the data channel refused, port 0")
    check("a=fmtp:102 packetization-mode=1;profile-level-id=42e01f" in
          r.body and r.body.count("a=sendonly") == 2,
          "the H.264 fmtp echoed; each stream sendonly")
    pump(parties, 2.5)
    check(rv.pkts and all(p["pt"] == 100 for p in rv.pkts),
          "video in payload type 100 (the headend's 96): %d packets"
          % len(rv.pkts))
    check(rv.pkts and vp8_key(rv.pkts[0]["p"]),
          "the video starts at a VP8 key frame")
    check(continuous(rv.pkts), "video: one SSRC, no gap")
    check(ra.pkts and all(p["pt"] == 0 for p in ra.pkts) and ra.pkts[0]["m"],
          "audio in PCMU, its first packet marked: %d packets"
          % len(ra.pkts))
    check(rv.pkts and ra.pkts and rv.pkts[0]["ssrc"] != ra.pkts[0]["ssrc"],
          "a stream a leg, each its own SSRC")

    # Switches between VP8 and H.264: no re-INVITE, a keyframe first.
    times = {}
    for to, pt, key in (("blue", 102, h264_sps), ("red", 100, vp8_key),
                        ("blue", 102, h264_sps), ("green", 100, vp8_key),
                        ("red", 100, vp8_key)):
        s = switch(d, parties, to, rv, pt, key)
        if s:
            times.setdefault(to, []).append(s["ms"])
            ok("to %s: first video packet %d ms after the 200 (answered "
               "in %d ms)" % (to, s["ms"], s["answered_ms"]))
    figures["switch_to_first_video_packet_ms"] = times
    # the first switch to blue and to green finds no cache (nobody watched
    # them yet) and waits for a keyframe; the others start from it
    warm = [ms for to, v in times.items()
            for ms in v[1 if to in ("blue", "green") else 0:]]
    check(warm and max(warm) < 300,
          "from the cache (the channel watched before): %s ms" % warm)

    # Another media: refused.
    for to in ("music", "news"):
        r2 = d.indialog("MESSAGE", "/switch " + to)
        check(r2.status == 488, "/switch %s refused: %d %s" %
              (to, r2.status, r2.warning()))

    # bob (audio only) and carol (VP8 only) walk into the open space.
    check(d.indialog("MESSAGE", "/open").status == 200, "alice opens")
    db = sipclient.Dialog(bob, "space-1")
    rb2 = db.send("INVITE", offer(41020, 0, video=False, extra_line=False),
                  "application/sdp")
    check(rb2.status == 200 and len(re.findall("^m=", rb2.body, re.M)) == 1
          and "m=audio" in rb2.body,
          "bob, audio only, gets the sound: %d" % rb2.status)
    dc = sipclient.Dialog(carol, "space-1")
    rc = dc.send("INVITE", offer(41030, 41032, h264=False, extra_line=False),
                 "application/sdp")
    check(rc.status == 200 and re.search(r"^m=video \d+ RTP/AVP 100\r",
                                         rc.body, re.M),
          "carol, VP8 only, gets both streams: %d" % rc.status)
    pump(parties, 1.5)
    check(rb.pkts and all(p["pt"] == 0 for p in rb.pkts),
          "bob hears: %d packets" % len(rb.pkts))
    check(rcv.pkts and vp8_key(rcv.pkts[0]["p"]),
          "carol sees, from a key frame: %d packets" % len(rcv.pkts))

    # To blue: carol's offer had no H.264: she stays on red, told so.
    n = len(rcv.pkts)
    r3 = d.indialog("MESSAGE", "/switch blue")
    msgs = pump(parties, 1.5)
    check(r3.status == 200, "/switch blue: %d" % r3.status)
    check(any(u == "carol" and "did not offer" in b for u, b in msgs),
          "carol is told she stays: %s" % msgs)
    check(any(u == "alice" and "carol cannot follow" in b for u, b in msgs),
          "alice is told carol cannot follow")
    check(len(rcv.pkts) > n and all(p["pt"] == 100
                                    for p in rcv.pkts[n:]),
          "carol's video goes on in VP8: %d packets" % (len(rcv.pkts) - n))
    check(any(p["pt"] == 102 for p in rv.pkts[-20:]),
          "alice's video is H.264")

    if RESTART:
        restart(parties, ra, rv, rca, rcv)

    # The host ends: everyone is hung up.
    r4 = d.indialog("BYE", "")
    check(r4.status == 200, "alice ends the space")
    pump(parties, 0.5)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a timeout, a closed socket: the test fails
        fail("%s: %s" % (type(e).__name__, e))
    with open(OUT, "w") as f:
        json.dump({"failures": failures, "figures": figures}, f, indent=2)
    print("streams: %s" % ("failed" if failures else "passed"))
    sys.exit(1 if failures else 0)
