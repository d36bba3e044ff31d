#!/usr/bin/env bash
# Exit to one's own service (claims 6-7): a guest's REFER to
# sip:svc-ID@DOMAIN leaves the space and keeps the dialog, re-pointed to
# that service's channel; a service that is not the user's is refused in
# the NOTIFY and changes nothing; the personal session then switches on
# its own.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_allow alice share 5091 3000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_leave bob space-1 5092 500
wait_for "select leave_reason from members where user_id = 'bob'" "left to own service"
expect_sql "select state from spaces" live
sipp_wait guest
sipp_wait host
wait_for "select state from spaces" ended
expect_sql "select count(*) from members where left_at is null" 0
e2e_finish
