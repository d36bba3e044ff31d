#!/usr/bin/env bash
# RFC 4028 §6: an INVITE asking for a session shorter than the server's
# Min-SE (90 s) gets 422 with Min-SE: 90 before anything is looked up or
# stored; the same INVITE again with Session-Expires: 90 starts the space
# and the 200 says 90 s with the starter as refresher (it asked without a
# refresher; RFC 4028 §9 gives the refresh to the UAC then).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_run host host_timer_too_small alice share 5091 500
grep -q "^Min-SE: 90" "$E2E_DIR/host.msg" || fail "no Min-SE: 90 in the 422"
# One space, started by the second INVITE: the first stored nothing.
expect_sql "select count(*) || ' ' || min(state) from spaces" "1 ended"
expect_sql "select count(*) from members" 1
e2e_finish
