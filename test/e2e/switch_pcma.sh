#!/usr/bin/env bash
# /switch to a PCMA channel (issue 14, defect 5): a space on Music Radio
# (PCMU, payload 0) switched to Kids Radio (PCMA, 8) re-INVITEs its
# multicast audio members with the group's payload type, RTP/AVP 8, not
# the 0 they had; and back again with 0.  A start on Kids Radio answers 8.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" <<'PY' ||
import re, sys
from sipparty import Party, sdp

port = int(sys.argv[1])
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond

def mline(body):
    m = re.search(r"^m=audio \d+ RTP/AVP ([0-9 ]+)\r?$", body, re.M)
    return m.group(1).strip() if m else None

audio = dict(media="audio", pts=(0, 8))
alice = Party(port, "alice")
bob = Party(port, "bob")
for p in (alice, bob):
    p.answer_sdp = sdp(group="232.10.0.4", **audio)
r = alice.invite("share", sdp(group="232.10.0.4", **audio))
check("alice starts on music: %r" % r, r.status == 200)
check("the start answers PCMU 0", mline(r.body) == "0")
check("/open", alice.message("/open").status == 200)
r = bob.invite("space-1", sdp(group="232.10.0.4", **audio))
check("bob joins: %r" % r, r.status == 200 and mline(r.body) == "0")

for channel, group, pt in (("kids", "232.10.0.5", "8"),
                           ("music", "232.10.0.4", "0")):
    n = len(bob.requests("INVITE"))
    check("/switch %s" % channel,
          alice.message("/switch " + channel).status == 200)
    bob.wait(lambda: len(bob.requests("INVITE")) > n, 5, "re-INVITE")
    alice.wait(lambda: len(alice.requests("INVITE")) > n, 5, "re-INVITE")
    for p in (alice, bob):
        body = p.requests("INVITE")[-1][1].body
        check("%s re-INVITEd to %s with RTP/AVP %s (got %s)" %
              (p.user, group, pt, mline(body)),
              mline(body) == pt and "c=IN IP4 %s/" % group in body)

carol = Party(port, "carol")
r = carol.invite("share", sdp(group="232.10.0.5", **audio))
check("a start on kids answers PCMA 8", r.status == 200 and
      mline(r.body) == "8")
for p in (bob, alice, carol):
    check("%s hangs up" % p.user, p.bye().status == 200)
sys.exit(0 if ok else 1)
PY
	fail "the PCMA checks"
wait_for "select count(*) from spaces where state = 'live'" 0
e2e_finish
