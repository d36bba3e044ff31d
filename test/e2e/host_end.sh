#!/usr/bin/env bash
# End (claim 5): the host's BYE, or /end, ends the space: every guest gets
# BYE with Reason: SIP;cause=200;text="space ended by host", the space is
# closed and its played time booked to the host's service.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_allow alice share 5091 1500
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_stay bob space-1 5092
sipp_wait host
sipp_wait guest
wait_for "select state from spaces where id = 1" ended
expect_sql "select end_reason from spaces where id = 1" "space ended by host"
expect_sql "select count(*) from members where space_id = 1 and left_at is null" 0
expect_sql "select sum(seconds) >= 1 from usage where service_default_id = 'svc-alice'" t

# The same through the /end command: the host's own dialog is ended too.
sipp_start host2 host_end_cmd carol share 5093 1000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest2 guest_stay dave space-2 5094
sipp_wait host2
sipp_wait guest2
wait_for "select state from spaces where id = 2" ended
e2e_finish
