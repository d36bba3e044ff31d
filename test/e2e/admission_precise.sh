#!/usr/bin/env bash
# The admission timeout is precise (issue 14, defect 6): with
# admission_timeout = 2, two joiners who ask 0.4 s apart and are never
# answered each get 480 2.0 s (+-0.2) after they asked, not together on a
# whole-second tick; the host is told of each, and nothing is stored.
ADMISSION_TIMEOUT=2
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" <<'PY' ||
import sys, time
from sipparty import Party, sdp, pump

port = int(sys.argv[1])
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond

alice = Party(port, "alice")
bob = Party(port, "bob")
carol = Party(port, "carol")
r = alice.invite("share", sdp())
check("alice starts a space: %r" % r, r.status == 200)
asked = {}
bob.send_invite("space-1", sdp())
asked["bob"] = time.time()
pump([alice, bob, carol], 0.4 - (time.time() - asked["bob"]))
carol.send_invite("space-1", sdp())
asked["carol"] = time.time()
end = time.time() + 5
while time.time() < end and (bob.invite_final is None or
                             carol.invite_final is None):
    pump([alice, bob, carol], 0.01)
for p in (bob, carol):
    r = p.invite_final
    waited = p.invite_final_at - asked[p.user] if r else -1
    print("%s: %r after %.3f s" % (p.user, r, waited))
    check("%s rang (180) and got 480" % p.user,
          r is not None and r.status == 480 and 180 in p.provisional)
    check("%s expired 2.0 s after asking (%.3f)" % (p.user, waited),
          abs(waited - 2.0) <= 0.2)
gap = carol.invite_final_at - bob.invite_final_at
check("the two expired apart, as they asked (%.3f s, asked 0.4 s apart)"
      % gap, abs(gap - 0.4) <= 0.15)
told = [m for m in alice.messages() if "expired" in m]
check("the host was told of both: %r" % told, len(told) == 2)
check("alice ends", alice.bye().status == 200)
sys.exit(0 if ok else 1)
PY
	fail "the timing checks"
expect_sql "select count(*) from members where user_id in ('bob', 'carol')" 0
e2e_finish
