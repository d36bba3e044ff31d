#!/usr/bin/env bash
# The remote changes hands (claims 2-3): /handover makes the guest host,
# everyone is told; the old host, now a guest, asks with /grab; the new
# host denies once and allows the second time; the roles in the database
# follow each move.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_handover alice share 5091 800
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_handover bob space-1 5092
sipp_wait host
sipp_wait guest
expect_sql "select state from spaces" ended
# The remote went alice -> bob -> alice; the rows say who held it last.
expect_sql "select string_agg(user_id || ':' || role, ',' order by admitted_seq) from members" \
	"alice:host,bob:guest"
grep -q "remote handed from alice to bob" "$E2E_DIR/tvspaced.log" ||
	fail "no handover in the log"
grep -q "remote handed from bob to alice" "$E2E_DIR/tvspaced.log" ||
	fail "no grab in the log"

e2e_finish
