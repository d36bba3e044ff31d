#!/usr/bin/env bash
# A stop for good (SIGUSR1): every live space ends.  The host and the guest
# each get BYE with Reason "the server is shutting down" (their SIPp
# scenarios check it), the space is stored ended with the members' rows
# closed, and tvspaced exits 0 with nothing left (AddressSanitizer).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_shutdown alice share 5091
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_shutdown bob space-1 5092
wait_for "select count(*) from members where left_at is null and local_tag is not null" 2
kill -USR1 "$TV_PID"
rc=0
wait "$TV_PID" || rc=$?
TV_PID=
[ "$rc" -eq 0 ] || fail "tvspaced exited with status $rc on SIGUSR1"
grep -q "signal 10: ending 1 live spaces, then stopping" \
	"$E2E_DIR/tvspaced.log" || fail "SIGUSR1 did not end the space"
if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$E2E_DIR/tvspaced.log"; then
	fail "tvspaced did not stop cleanly"
fi
sipp_wait host
sipp_wait guest
expect_sql "select state || ':' || end_reason from spaces" \
	"ended:the server is shutting down"
expect_sql "select count(*) from members where left_at is null" 0
e2e_finish
