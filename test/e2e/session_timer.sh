#!/usr/bin/env bash
# A host that vanishes without a word is found by RFC 4028 session timers:
# alice asks for a 90 s session with herself as refresher and then never
# refreshes (a set-top box unplugged).  The server ends her dialog with a
# BYE before the session expires, the host is lost, and after host_grace
# (2 s here) carol, the guest, holds the remote.  About 85 s.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config
echo "host_grace = 2" >>"$E2E_DIR/tvspace.conf"
tv_start
export SIPP_TIMEOUT=120 SIPP_RECV_TIMEOUT=110000

sipp_start host host_timer_silent alice share 5091
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start carol guest_promoted_quiet carol space-1 5092 2000
wait_for "select count(*) from members where left_at is null" 2
sipp_wait host
log "alice's dialog ended by the server after $(($(date +%s) - $(sql "select extract(epoch from started)::bigint from spaces"))) s"
wait_for "select role from members where user_id = 'carol' and left_at is null" host 10
expect_sql "select leave_reason from members where user_id = 'alice'" "host lost"
sipp_wait carol
wait_for "select state from spaces" ended
e2e_finish
