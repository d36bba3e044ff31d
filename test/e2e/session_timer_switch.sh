#!/usr/bin/env bash
# A switch re-INVITE is a session refresh (RFC 4028 §7.4, §10): carol asks
# for a 90 s session with herself as refresher and never refreshes.  The
# host switches 30 s after she joined: the re-INVITE carries the session's
# interval and carol as refresher, she answers 90 s, and the session runs
# from there.  Unrefreshed, the server would end it about 81 s after the
# join (RFC 4028 §10: a BYE before the session expires); refreshed, the BYE
# comes about 81 s after the switch, over 100 s after the join.  About
# 115 s.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start
export SIPP_TIMEOUT=150 SIPP_RECV_TIMEOUT=130000

sipp_start host host_switch_later alice share 5091 30000
wait_for "select count(*) from spaces where state = 'live' and is_open" 1
joined=$(date +%s)
sipp_start carol guest_timer_refreshed carol space-1 5092
wait_for "select count(*) from members where left_at is null" 2
sipp_wait carol
ended=$(($(date +%s) - joined))
log "carol's dialog ended by the server ${ended} s after she joined"
[ "$ended" -ge 100 ] || fail "carol's session was not refreshed by the switch"
[ "$ended" -le 125 ] || fail "carol's session outlived the refreshed interval"
expect_sql "select coalesce(leave_reason, '-') from members where user_id = 'carol'" \
	"dialog terminated"
sipp_wait host
e2e_finish
