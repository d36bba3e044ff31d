#!/usr/bin/env bash
# Join left unanswered: after admission_timeout the joiner gets 480 and the
# host is told the request expired.
ADMISSION_TIMEOUT=2
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_ignore alice share 5091
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_run guest guest_timeout bob space-1 5092
sipp_wait host
expect_sql "select count(*) from members where user_id = 'bob'" 0
e2e_finish
