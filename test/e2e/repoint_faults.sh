#!/usr/bin/env bash
# A switch re-points every member at once, and one member's trouble is its
# own.  Erin hosts; bob answers the re-INVITE at once; carol answers 491
# (glare) and gets the re-INVITE again 0 to 2 s later (RFC 3261 §14.1, we do
# not own her Call-ID); dave answers 481 and is removed at once; alice never
# answers and is removed when the transaction times out (Timer B, 32 s),
# with a BYE.
# Bob and carol watch sports to the end, and the database says so.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
# The parties wait out the 32 s timeout.
export SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=50000
tv_start

sipp_start host host_switch_open erin share 5091 36000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start bob guest_open_switched bob space-1 5092
sipp_start carol guest_glare carol space-1 5093
sipp_start dave guest_gone dave space-1 5094
sipp_start alice guest_silent alice space-1 5095
wait_for "select count(*) from members where left_at is null" 5
# The switch comes 3 s after the start: dave is gone at once.
wait_for "select channel || ':' || coalesce((select leave_reason from members where user_id = 'dave'), '-') from spaces" \
	"sports:unreachable"
sipp_wait dave
expect_sql "select count(*) from members where user_id = 'alice' and left_at is null" 1
wait_for "select coalesce(leave_reason, '-') from members where user_id = 'alice'" \
	unreachable 40
sipp_wait alice
expect_sql "select string_agg(user_id, ',' order by user_id) from members where left_at is null" \
	"bob,carol,erin"

# Carol's retry came within RFC 3261's 0 to 2 s of her 491.
python3 "$SRC/test/lib/retry_delay.py" "$E2E_DIR/carol.msg" 232.10.0.2 0 2.2 ||
	FAILED=1

sipp_wait host
sipp_wait bob
sipp_wait carol
expect_sql "select string_agg(user_id || ':' || leave_reason, ',' order by user_id) from members" \
	"alice:unreachable,bob:space ended by host,carol:space ended by host,dave:unreachable,erin:space ended by host"
# The BYE that ended alice's dialog says why, one CSeq above the re-INVITE.
python3 - "$E2E_DIR/alice.msg" <<'PY' || FAILED=1
import re, sys
text = open(sys.argv[1]).read()
invite = max(int(n) for n in re.findall(r"^CSeq: (\d+) INVITE", text, re.M))
bye = re.search(r"^BYE sip:.*?^CSeq: (\d+) BYE.*?^Reason: (.*?)$", text,
                re.M | re.S)
print("re-INVITE CSeq", invite, "BYE", bye and bye.groups())
sys.exit(0 if bye and int(bye.group(1)) == invite + 1
         and "cause=408" in bye.group(2) else 1)
PY
e2e_finish
