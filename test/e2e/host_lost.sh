#!/usr/bin/env bash
# The host vanishes (its SIPp is killed, so a request to it meets a closed
# port): the space plays on, its guest is told, the joiner who asks
# meanwhile waits; after host_grace (2 s here) the earliest-admitted guest,
# carol, holds the remote, everyone is told, the joiner is asked of her and
# admitted, and her BYE ends the space as a host's does.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config
echo "host_grace = 2" >>"$E2E_DIR/tvspace.conf"
tv_start

sipp_start host host_allow alice share 5091 30000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start carol guest_promoted carol space-1 5092 1000
wait_for "select count(*) from members where left_at is null" 2
kill -KILL "$SIPP_host"
wait "$SIPP_host" 2>/dev/null || true
log "alice's SIPp killed"
sipp_start bob guest_stay bob space-1 5093
# bob's join request cannot reach alice: she is lost, carol is told.
wait_for "select coalesce(leave_reason, '-') from members where user_id = 'alice'" \
	"host lost"
expect_sql "select state from spaces" live
wait_for "select role from members where user_id = 'carol' and left_at is null" host
wait_for "select role from members where user_id = 'bob' and left_at is null" guest
sipp_wait carol
sipp_wait bob
wait_for "select state from spaces" ended
expect_sql "select string_agg(user_id || ':' || role || ':' || leave_reason, ',' order by user_id) from members" \
	"alice:host:host lost,bob:guest:space ended by host,carol:host:space ended by host"
grep -q "space-1 carol promoted to host: alice did not come back" \
	"$E2E_DIR/tvspaced.log" || fail "no promotion in the log"
e2e_finish
