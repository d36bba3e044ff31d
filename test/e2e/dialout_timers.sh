#!/usr/bin/env bash
# A dialog the server makes itself (the host REFERs bob into the space,
# RFC 4579 §5.5), against a terminal whose Min-SE is larger than ours:
# - RFC 4028 §7.3: bob answers the server's INVITE (Session-Expires 1800)
#   with 422 Min-SE: 3600; the server asks again with 3600 and bob joins;
# - RFC 3261 §14.1: bob answers the switch's re-INVITE 491; the server owns
#   this dialog's Call-ID, so it waits 2.1 to 4 s before it tries again;
# - RFC 4028: bob answers that re-INVITE 422 Min-SE: 7200; the server asks
#   again with Session-Expires and Min-SE 7200 and bob follows the switch.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start bob invitee_timers bob x 5093
sipp -sf "$SCEN/host_refer_switch.xml" -m 1 -nostdin -i 127.0.0.1 -p 5091 \
	-key user alice -key target share -key peer_port 5093 -d 9000 \
	-timeout 40s -timeout_error -trace_err \
	-error_file "$E2E_DIR/host.errors" -trace_msg \
	-message_file "$E2E_DIR/host.msg" "127.0.0.1:$SIP_PORT" \
	>"$E2E_DIR/host.out" 2>&1 || fail "host: sipp failed"
sipp_wait bob
expect_sql "select string_agg(user_id || ':' || role || ':' || leave_reason, ',' order by user_id) from members" \
	"alice:host:space ended by host,bob:guest:space ended by host"

# The retry after bob's 491 came 2.1 to 4 s later.
python3 - "$E2E_DIR/bob.msg" <<'PY' || FAILED=1
import re, sys
from datetime import datetime
text = open(sys.argv[1]).read()
stamp = r"-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)"
events = []
for m in re.finditer(stamp + r"\n(.*?)(?=\n-{10,} \d{4}|\Z)", text, re.S):
    t = datetime.strptime(m.group(1)[:26], "%Y-%m-%d %H:%M:%S.%f")
    body = m.group(2)
    if "SIP/2.0 491" in body:
        events.append(("491", t))
    elif re.search(r"^INVITE sip:", body, re.M) and "232.10.0.2" in body:
        events.append(("invite", t))
sent = [t for e, t in events if e == "491"]
after = [t for e, t in events if e == "invite" and sent and t > sent[0]]
delay = (after[0] - sent[0]).total_seconds() if after else None
print("491 sent, re-INVITE again after", delay, "s")
sys.exit(0 if delay is not None and 2.1 <= delay <= 4.2 else 1)
PY
e2e_finish
