#!/usr/bin/env bash
# A joiner gives up while the host is asked: CANCEL gives 487 and the host
# is told the request was withdrawn.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_withdrawn alice share 5091
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_run guest guest_cancel bob space-1 5092 500
sipp_wait host
expect_sql "select count(*) from members where user_id = 'bob'" 0
e2e_finish
