#!/usr/bin/env bash
# Join refused by the host: /deny N gives the joiner 603 with a Warning and
# writes nothing for it.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_deny alice share 5091 500
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_run guest guest_denied bob space-1 5092
sipp_wait host
expect_sql "select count(*) from members where user_id = 'bob'" 0
e2e_finish
