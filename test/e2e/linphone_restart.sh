#!/usr/bin/env bash
# linphonec (Debian's linphone-cli) keeps its call through restarts: as bob
# it joins alice's space on Music Radio (alice, a party of
# test/lib/hostctl.py, allows it) and receives the channel by relay.
# tvspaced is stopped with SIGTERM and started, then killed with SIGKILL
# and started.  Each time: no BYE reaches linphonec, its RTP stops while
# the server is down, the new daemon re-INVITEs it inside its call,
# linphonec answers 200 and the channel's RTP comes back from the new relay
# leg (counted on the wire; the figures are printed).  Then alice's
# /switch kids reaches it (660 Hz), and her BYE ends its one call with the
# Reason "space ended by host".
. "$(dirname "$0")/../lib/e2e.sh"
. "$SRC/test/lib/clients.sh"
db_fresh
tv_start

rtp_count_start 7078
linphone_start bob
party_start host alice
party_do host start 232.10.0.4
wait_for "select channel from spaces where state = 'live'" music
lp "call sip:space-1@127.0.0.1:$SIP_PORT"
out_wait "$E2E_DIR/host.out" "got MESSAGE join request 1 from bob"
party_do host allow
out_wait "$LP/out" "Call 1 with .* connected"
wait_for "select count(*) from members where left_at is null and local_sdp like 'v=0%'" 2
n=$(rtp_grows 2) && log "ok: $n RTP packets reached linphonec in 2 s" ||
	fail "only $n RTP packets reached linphonec in 2 s"

# restart HOW N: stop tvspaced (tv_stop: SIGTERM, tv_kill: SIGKILL), check
# that linphonec hears nothing meanwhile, start it, and wait for RTP from
# the new relay leg; N is the number of this restart.
restart() {
	local how=$1 k=$2 t_stop t_start t_ready t_first down n
	t_stop=$(now)
	$how
	sleep 1
	down=$(rtp total)
	sleep 1
	[ "$(rtp total)" -eq "$down" ] ||
		fail "RTP reached linphonec while tvspaced was down"
	t_start=$(now)
	tv_start
	t_ready=$(log_time "$(grep "ready:" "$E2E_DIR/tvspaced.log" | tail -n 1)")
	out_wait "$E2E_DIR/tvspaced.log" "space-1 bob resumed" 15 "$k"
	for _ in $(seq 1 50); do
		[ "$(rtp since "$t_start")" -ge 50 ] && break
		sleep 0.1
	done
	t_first=$(rtp first "$t_start")
	[ -n "$t_first" ] || die "no RTP from the new daemon ($how)"
	log "$how: the old daemon's last RTP packet $(elapsed "$t_stop" "$(rtp last "$t_stop")") s after the signal; the new daemon's first $(elapsed "$t_start" "$t_first") s after it was started ($(elapsed "$t_ready" "$t_first") s after its 'ready'); $(elapsed "$t_stop" "$t_first") s from the signal"
	n=$(rtp_grows 2) && log "ok: after $how, $n RTP packets in 2 s" ||
		fail "after $how, only $n RTP packets in 2 s"
	# linphonec's own word: call 1, still the same, streams running
	lp calls
	out_wait "$LP/out" "^1 +\| sip:space-1@[^|]*\| StreamsRunning" 5 "$k"
	if grep -aq "ended" "$LP/out"; then
		fail "linphonec's call ended ($how)"
	fi
	# the re-INVITE reached linphonec (its trace), which answered it 200
	# (the server's "resumed")
	[ "$(grep -aEc "^INVITE sip:[^ ]*127.0.0.1:5098" "$LP/linphonec.log" || true)" -ge "$k" ] ||
		fail "linphonec's trace has no re-INVITE ($how)"
}

restart tv_stop 1
if grep -aq "^BYE " "$LP/linphonec.log"; then
	fail "a BYE reached linphonec on SIGTERM"
fi
restart tv_kill 2

party_do host send /switch kids
wait_for "select channel from spaces" kids
n=$(rtp_grows 2) && log "ok: after /switch kids, $n RTP packets in 2 s" ||
	fail "after /switch kids, only $n RTP packets in 2 s"
party_do host bye
out_wait "$LP/out" "Call 1 with .* ended" 10
grep -aA12 "^BYE sip:" "$LP/linphonec.log" |
	grep -q '^Reason: SIP;cause=200;text="space ended by host"' ||
	fail "linphonec's BYE had no Reason"
[ "$(grep -ac "connected\." "$LP/out" || true)" -eq 1 ] ||
	fail "linphonec connected more than once"
expect_sql "select role || ':' || leave_reason from members where user_id = 'bob'" \
	"guest:space ended by host"
linphone_stop
party_stop host
rtp_count_stop
log "RTP flows seen by linphonec's port:"
rtp flows
python3 "$SRC/test/lib/heard.py" "$LP/heard.wav" 440 440 440 660 || FAILED=1
e2e_finish
