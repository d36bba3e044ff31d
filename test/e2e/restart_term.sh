#!/usr/bin/env bash
# A restart by SIGTERM (systemctl restart, a package upgrade): the host and
# the guest keep their dialogs.  SIGTERM sends them nothing (their SIPp
# scenarios fail on any BYE), the space stays live in the database, and the
# next start takes both dialogs up with a re-INVITE inside them; the host's
# BYE then ends the space for the guest as before the restart.  A joiner
# still waiting for the host's word when the stop comes is told to come
# back (503).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_resume alice share 5091 1000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_resume bob space-1 5092
wait_for "select count(*) from members where left_at is null and local_tag is not null" 2
wait_for "select count(*) from members where left_at is null and local_sdp like 'v=0%'" 2
# carol asks to join; alice's scenario no longer answers join requests
sipp_start carol guest_restarting carol space-1 5093
sleep 1
t0=$(date +%s.%N)
tv_stop
t1=$(date +%s.%N)
log "tvspaced stopped by SIGTERM in $(python3 -c "print(round($t1 - $t0, 2))") s"
grep -q "signal 15: stopping; 1 live spaces and their dialogs stay" \
	"$E2E_DIR/tvspaced.log" || fail "SIGTERM did not keep the space"
if grep -q "nua_bye\|BYE sent" "$E2E_DIR/tvspaced.log"; then
	fail "a BYE went out on SIGTERM"
fi
expect_sql "select state from spaces" live
expect_sql "select count(*) from members where left_at is null" 2
sipp_wait carol
tv_start
grep -q "space-1 restored with 2 members" "$E2E_DIR/tvspaced.log" ||
	fail "space-1 not restored with 2 members"
sipp_wait host
sipp_wait guest
wait_for "select state from spaces" ended
expect_sql "select string_agg(user_id || ':' || role || ':' || coalesce(leave_reason, '-'), ',' order by admitted_seq) from members" \
	"alice:host:space ended by host,bob:guest:space ended by host"
e2e_finish
