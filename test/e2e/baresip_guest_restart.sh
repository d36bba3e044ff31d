#!/usr/bin/env bash
# baresip (Debian's baresip-core) as a guest keeps its call and its keypad
# through restarts.  alice (a party of test/lib/hostctl.py) starts a space
# on Music Radio; baresip, as bob, dials space-1, rings, and is allowed in
# as a relay member.  tvspaced is stopped with SIGTERM and started: no BYE
# reaches baresip, the new daemon re-INVITEs it inside its call, and the
# channel's RTP comes back (counted on the wire at baresip's port).  Then
# bob's keypad, a guest's: * asks for the remote (RFC 4733 on the RTP),
# alice allows it, and bob's 5 # switches the space to Kids Radio.  tvspaced
# is killed with SIGKILL and started: the call is kept again and bob's
# 4 # switches back to Music Radio.  bob hangs up, which ends the space:
# alice gets BYE with "space ended by host".  What baresip heard: 440 Hz,
# then 660 Hz, then 440 Hz.
. "$(dirname "$0")/../lib/e2e.sh"
. "$SRC/test/lib/clients.sh"
db_fresh
tv_start

baresip_setup bob
BS_RTP=7080
echo "rtp_ports		$BS_RTP-$((BS_RTP + 1))" >>"$BS/config"
rtp_count_start "$BS_RTP"
party_start host alice
party_do host start 232.10.0.4
wait_for "select channel from spaces where state = 'live'" music

mkfifo "$BS/keys"
(cd "$BS" && HOME=$BS exec timeout -k 5 90 baresip -f "$BS" -s \
	-e "/dial sip:space-1@127.0.0.1:$SIP_PORT" -t 80 \
	<"$BS/keys" >"$BS/log" 2>&1) &
BARESIP=$!
SIPP_PIDS+=("$BARESIP")
exec 3>"$BS/keys"
press() {
	local i
	for ((i = 0; i < ${#1}; i++)); do
		printf '%s' "${1:i:1}" >&3
		sleep 0.5
	done
}

out_wait "$E2E_DIR/host.out" "got MESSAGE join request 1 from bob"
out_wait "$BS/log" "SIP/2.0 180 Ringing"
log "ok: baresip rings while the host is asked"
sleep 1
party_do host allow
out_wait "$BS/log" "Call established"
wait_for "select count(*) from members where left_at is null and local_sdp like '%telephone-event%'" 1
n=$(rtp_grows 2) && log "ok: $n RTP packets reached baresip in 2 s" ||
	fail "only $n RTP packets reached baresip in 2 s"

# restart HOW N: as in linphone_restart.sh, for baresip.
restart() {
	local how=$1 k=$2 t_stop t_start t_first down n
	t_stop=$(now)
	$how
	sleep 1
	down=$(rtp total)
	sleep 1
	[ "$(rtp total)" -eq "$down" ] ||
		fail "RTP reached baresip while tvspaced was down"
	t_start=$(now)
	tv_start
	out_wait "$E2E_DIR/tvspaced.log" "space-1 bob resumed" 15 "$k"
	for _ in $(seq 1 50); do
		[ "$(rtp since "$t_start")" -ge 50 ] && break
		sleep 0.1
	done
	t_first=$(rtp first "$t_start")
	[ -n "$t_first" ] || die "no RTP from the new daemon ($how)"
	log "$how: the old daemon's last RTP packet $(elapsed "$t_stop" "$(rtp last "$t_stop")") s after the signal; the new daemon's first $(elapsed "$t_start" "$t_first") s after it was started; $(elapsed "$t_stop" "$t_first") s from the signal"
	n=$(rtp_grows 2) && log "ok: after $how, $n RTP packets in 2 s" ||
		fail "after $how, only $n RTP packets in 2 s"
	if grep -aq "terminated" "$BS/log"; then
		fail "baresip's call ended ($how)"
	fi
}

restart tv_stop 1
if grep -aq "^BYE " "$BS/log"; then
	fail "a BYE reached baresip on SIGTERM"
fi
# a guest's keypad after the restart: * asks the host for the remote
press "*"
out_wait "$E2E_DIR/host.out" "got MESSAGE grab request [0-9]+ from bob"
party_do host allow
wait_for "select user_id from members where role = 'host' and left_at is null" bob
log "ok: after SIGTERM, baresip's * got bob the remote"
sleep 1.5
press "5#"
wait_for "select channel from spaces" kids
log "ok: after SIGTERM, baresip's keys switch the space to kids"
sleep 1.5

restart tv_kill 2
press "4#"
wait_for "select channel from spaces" music
log "ok: after SIGKILL, baresip's keys switch the space back to music"
sleep 1.5

press "b"
out_wait "$E2E_DIR/host.out" "got BYE .*space ended by host" 10
wait_for "select state from spaces" ended
printf 'q' >&3
exec 3>&-
wait "$BARESIP" || true
[ "$(grep -ac "Call established" "$BS/log" || true)" -eq 1 ] ||
	fail "baresip established more than one call"
[ "$(grep -aEc "^INVITE sip:[^ ]*@127.0.0.1:5096 " "$BS/log" || true)" -eq 2 ] ||
	fail "baresip's trace does not hold the two re-INVITEs"
party_stop host
rtp_count_stop
log "RTP flows seen by baresip's port:"
rtp flows
# (baresip's recording closes the gaps: its player is fed at the pace of
# a sound card from what it received)
python3 "$SRC/test/lib/heard.py" "$BS" 440 660 440 || FAILED=1
e2e_finish
