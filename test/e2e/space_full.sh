#!/usr/bin/env bash
# Capacity: alice's service holds 4 members.  In an /open space three
# guests come in unasked; the fifth caller gets 486 "space full".  The
# host's BYE then ends the space for every guest (claim 5).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
expect_sql "select capacity from services join service_levels using (level) where service_default_id = 'svc-alice'" 4
tv_start

sipp_start host host_open alice share 5091 3000
wait_for "select is_open from spaces" t
sipp_start bob guest_open_stay bob space-1 5092
sipp_start carol guest_open_stay carol space-1 5093
sipp_start dave guest_open_stay dave space-1 5094
wait_for "select count(*) from members where left_at is null" 4
sipp_run erin guest_full erin space-1 5095
sipp_wait bob
sipp_wait carol
sipp_wait dave
sipp_wait host
wait_for "select state from spaces" ended
expect_sql "select count(*) from members where left_at is null" 0
expect_sql "select count(*) from members where user_id = 'erin'" 0
e2e_finish
