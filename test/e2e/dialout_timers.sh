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
python3 "$SRC/test/lib/retry_delay.py" "$E2E_DIR/bob.msg" 232.10.0.2 2.1 4.2 ||
	FAILED=1
e2e_finish
