#!/usr/bin/env bash
# An operator in a hurry: SIGINT and SIGTERM one after the other while a
# space is live.  The first starts the orderly stop that keeps the spaces,
# the second stops at once; neither may crash (sofia-sip's nua must not be
# destroyed before its shutdown completes), and the daemon starts again on
# the same database.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
# A stop that does not wait for the SIP stack leaves its memory to the
# process's end: not a leak to report.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
tv_config
# No grace for a lost host: the restarted daemon ends its space at once.
echo "host_grace = 0" >>"$E2E_DIR/tvspace.conf"
tv_start
sipp_start host host_start alice share 5091 1500
wait_for "select count(*) from spaces where state = 'live'" 1
kill -INT "$TV_PID"
kill -TERM "$TV_PID"
rc=0
wait "$TV_PID" || rc=$?
TV_PID=
[ "$rc" -eq 0 ] || fail "tvspaced exited with status $rc on two signals"
if grep -Eq "Assertion|AddressSanitizer|runtime error" "$E2E_DIR/tvspaced.log"; then
	fail "tvspaced crashed on two signals"
fi
grep -q "signal 15: stopping now" "$E2E_DIR/tvspaced.log" ||
	fail "the second signal was not seen"
# The host's dialog was left alone; its SIPp is stopped, so the restarted
# daemon's re-INVITE finds nobody and, with no host to answer, the space
# ends.
kill "$SIPP_host" 2>/dev/null || true
wait "$SIPP_host" 2>/dev/null || true
tv_start
wait_for "select state from spaces" ended
e2e_finish
