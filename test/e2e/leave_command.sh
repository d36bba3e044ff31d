#!/usr/bin/env bash
# /leave SERVICE (issue 14, defect 4): a guest's command answers 200, no
# longer 501, once the guest is re-pointed: a re-INVITE with its service's
# default channel (bob's svc-bob: Demo News, 232.10.0.1) while the space
# stays on Demo Sports; the space loses it, in the core and in the store,
# and the dialog lives on as a personal session.  A service of someone
# else is refused and changes nothing.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" "$CONN" <<'PY' ||
import sys
from sipparty import Party, sdp, sql_on, Checks

port, conn = int(sys.argv[1]), sys.argv[2]
sql = sql_on(conn)
check = Checks()

alice = Party(port, "alice")
bob = Party(port, "bob")
r = alice.invite("share", sdp(group="232.10.0.2"))
check("alice starts a space on sports: %r" % r, r.status == 200)
check("/open", alice.message("/open").status == 200)
r = bob.invite("space-1", sdp(group="232.10.0.2"))
check("bob joins: %r" % r, r.status == 200)

r = bob.message("/leave svc-alice")
check("/leave to a service of someone else: 403 (%r)" % r, r.status == 403)
check("bob is still a member",
      sql("select count(*) from members where user_id = 'bob' "
          "and left_at is null") == "1")

r = bob.message("/leave svc-bob")
check("/leave svc-bob answered 200, not 501: %r" % r, r.status == 200)
inv = bob.requests("INVITE")
check("bob is re-INVITEd once", len(inv) == 1)
body = inv[-1][1].body if inv else ""
check("to his service's default channel (232.10.0.1, news)",
      "c=IN IP4 232.10.0.1/" in body and "m=video 5004 RTP/AVP 33" in body)
check("bob's row is closed: left to own service",
      sql("select leave_reason from members where user_id = 'bob'") ==
      "left to own service")
check("the space keeps alice alone, on sports",
      sql("select count(*) from members where space_id = 1 "
          "and left_at is null") == "1" and
      sql("select channel || ' ' || state from spaces") == "sports live")
check("alice got no re-INVITE", not alice.requests("INVITE"))
# the personal session answers its own /switch
r = bob.message("/switch sports")
check("bob's personal session switches on its own: %r" % r, r.status == 200)
bob.wait(lambda: len(bob.requests("INVITE")) == 2, 5, "second re-INVITE")
check("bob is re-INVITEd to sports",
      "232.10.0.2" in bob.requests("INVITE")[-1][1].body)
check("bob hangs up", bob.bye().status == 200)
check("alice ends", alice.bye().status == 200)
sys.exit(0 if check.ok else 1)
PY
	fail "the /leave checks"
wait_for "select state from spaces" ended
expect_sql "select count(*) from members where left_at is null" 0
e2e_finish
