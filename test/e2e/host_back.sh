#!/usr/bin/env bash
# The host vanishes and comes back within host_grace: a new INVITE to the
# space URI from the same user makes her host again at once, the guest is
# told both times, and the joiner who waited is asked of her.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config
echo "host_grace = 30" >>"$E2E_DIR/tvspace.conf"
tv_start

sipp_start host host_allow alice share 5091 30000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start carol guest_host_back carol space-1 5092
wait_for "select count(*) from members where left_at is null" 2
kill -KILL "$SIPP_host"
wait "$SIPP_host" 2>/dev/null || true
sipp_start bob guest_stay bob space-1 5093
wait_for "select coalesce(leave_reason, '-') from members where user_id = 'alice'" \
	"host lost"
sipp_start back host_returns alice space-1 5094 1500
wait_for "select count(*) from members where user_id = 'alice' and role = 'host' and left_at is null" 1
sipp_wait back
sipp_wait carol
sipp_wait bob
wait_for "select state from spaces" ended
expect_sql "select string_agg(user_id || ':' || role || ':' || leave_reason, ',' order by user_id, joined) from members" \
	"alice:host:host lost,alice:host:space ended by host,bob:guest:space ended by host,carol:guest:space ended by host"
e2e_finish
