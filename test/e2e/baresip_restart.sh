#!/usr/bin/env bash
# A real softphone keeps its call and its remote control through restarts:
# baresip (Debian's baresip-core), as frank, starts a space on Music Radio
# (relay, telephone-event).  tvspaced is stopped with SIGTERM and started,
# then killed with SIGKILL and started; each time baresip answers the
# re-INVITE inside its call, and its keypad (RFC 4733 on the RTP) still
# switches: 5# to kids after the first restart, 4# back to music after the
# second.  What baresip hears changes tone accordingly, and its call ends
# when it hangs up.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

baresip_setup frank
mkfifo "$BS/keys"
(cd "$BS" && HOME=$BS timeout 60 baresip -f "$BS" \
	-e "/dial sip:share@127.0.0.1:$SIP_PORT" -t 30 \
	<"$BS/keys" >"$BS/log" 2>&1) &
BARESIP=$!
exec 3>"$BS/keys"
wait_for "select channel || ':' || (select delivery from members) from spaces where state = 'live'" \
	"music:relay"
wait_for "select count(*) from members where local_tag is not null and local_sdp like '%telephone-event%'" 1

resumed() {
	for _ in $(seq 1 100); do
		[ "$(grep -c "space-1 frank resumed" "$E2E_DIR/tvspaced.log" || true)" -ge "$1" ] && return 0
		sleep 0.1
	done
	die "baresip's call was not taken up"
}
press() {
	local k
	for k in $(echo "$1" | grep -o .); do
		printf '%s' "$k" >&3
		sleep 0.5
	done
}

sleep 2
tv_stop
log "tvspaced stopped with SIGTERM"
tv_start
resumed 1
sleep 1.5
press "5#"
wait_for "select channel from spaces" kids
log "ok: after SIGTERM, baresip's keys switch the space to kids"

tv_kill
log "tvspaced killed with SIGKILL"
tv_start
resumed 2
sleep 1.5
press "4#"
wait_for "select channel from spaces" music
log "ok: after SIGKILL, baresip's keys switch the space back to music"

wait "$BARESIP" || true
exec 3>&-
wait_for "select state from spaces" ended 20
if grep -aq "terminated\|Call established" "$BS/log"; then
	log "ok: baresip kept one call until it hung up"
fi
[ "$(grep -ac "Call established" "$BS/log" || true)" -eq 1 ] ||
	fail "baresip established more than one call"
python3 "$SRC/test/lib/heard.py" "$BS" 440 660 440 || FAILED=1
e2e_finish
