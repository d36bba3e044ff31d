#!/usr/bin/env bash
# A member that refuses the switch re-INVITE (issue 14, defect 8; RFC
# 6141: a non-2xx answer leaves the session as it was) stays in the space
# on the stream it had: bob answers 488 to the re-INVITE to Demo Sports,
# is told by MESSAGE that he stays on his channel, the host is told he
# cannot follow, his dialog and his row stay; carol, who accepts, follows.
# The next switch reaches bob again, and he follows it.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" "$CONN" <<'PY' ||
import sys
from sipparty import Party, sdp, pump, sql_on, Checks

port, conn = int(sys.argv[1]), sys.argv[2]
sql = sql_on(conn)
check = Checks()

alice, bob, carol = (Party(port, u) for u in ("alice", "bob", "carol"))
check("alice starts", alice.invite("share", sdp()).status == 200)
check("/open", alice.message("/open").status == 200)
for p in (bob, carol):
    check("%s joins" % p.user, p.invite("space-1", sdp()).status == 200)
bob.reinvite_status = 488

check("/switch sports", alice.message("/switch sports").status == 200)
everyone = [alice, bob, carol]
bob.wait(lambda: bob.requests("INVITE") and
         any("refused" in m for m in bob.messages()), 5,
         "re-INVITE, then the notice")
alice.wait(lambda: any("bob cannot follow" in m for m in alice.messages()),
           5, "the host's notice")
pump(everyone, 0.5)
print("bob was told:", bob.messages())
print("alice was told:", alice.messages())
check("bob is told he stays on his channel",
      any("Demo Sports" in m and "488" in m and "stay" in m
          for m in bob.messages()))
check("the host is told bob cannot follow (488)",
      any("bob cannot follow to Demo Sports (488)" in m
          for m in alice.messages()))
check("carol followed: re-INVITEd to sports",
      "232.10.0.2" in carol.requests("INVITE")[-1][1].body)
check("bob got no BYE", not bob.requests("BYE"))
check("bob's row is open, the space on sports with its 3 members",
      sql("select count(*) from members where user_id = 'bob' "
          "and left_at is null") == "1" and
      sql("select channel from spaces") == "sports" and
      sql("select count(*) from members where left_at is null") == "3")
r = bob.message("still here")
check("bob still comments in the space: %r" % r, r.status == 200)

bob.reinvite_status = 200
n = len(bob.requests("INVITE"))
check("/switch news", alice.message("/switch news").status == 200)
bob.wait(lambda: len(bob.requests("INVITE")) > n, 5, "re-INVITE")
check("the next switch reaches bob, and he follows",
      "232.10.0.1" in bob.requests("INVITE")[-1][1].body)
pump(everyone, 0.3)
for p in (bob, carol, alice):
    check("%s hangs up" % p.user, p.bye().status == 200)
sys.exit(0 if check.ok else 1)
PY
	fail "the RFC 6141 checks"
wait_for "select state from spaces" ended
e2e_finish
