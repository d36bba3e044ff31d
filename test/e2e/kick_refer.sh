#!/usr/bin/env bash
# The host removes a guest with /kick (BYE with Reason), invites a user
# into the space with REFER (RFC 4579 5.5: the server INVITEs the user,
# already admitted, and reports in the REFER's NOTIFYs), and removes her
# with REFER method=BYE.  Guests cannot kick.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_kick alice share 5091 500
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_run guest guest_kicked bob space-1 5092
sipp_wait host
expect_sql "select leave_reason from members where user_id = 'bob'" "removed by host"

sipp_start carol invitee carol x 5093
sipp -sf "$SCEN/host_refer.xml" -m 1 -nostdin -i 127.0.0.1 -p 5094 \
	-key user dave -key target share -key peer_port 5093 -d 500 \
	-timeout 40s -timeout_error -trace_err \
	-error_file "$E2E_DIR/refer.errors" -trace_msg \
	-message_file "$E2E_DIR/refer.msg" "127.0.0.1:$SIP_PORT" \
	>"$E2E_DIR/refer.out" 2>&1 || fail "refer: sipp failed"
sipp_wait carol
expect_sql "select role || ' ' || leave_reason from members where user_id = 'carol'" \
	"guest removed by host"
e2e_finish
