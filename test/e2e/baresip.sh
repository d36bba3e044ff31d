#!/usr/bin/env bash
# A real softphone: baresip (Debian's baresip-core) dials a space URI,
# rings while the host is asked, is admitted, and receives the channel by
# relay (RTP from the server).  It records what it hears: Music Radio's
# 440 Hz until the host's /switch kids, then Kids Radio's 660 Hz, and the
# host's BYE ends its call.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

baresip_setup bob

MEDIA_PORT=41000 sipp_start host host_relay alice share 5091 3000
wait_for "select count(*) from spaces where state = 'live'" 1
(cd "$BS" && HOME=$BS timeout 30 baresip -f "$BS" \
	-e "/dial sip:space-1@127.0.0.1:$SIP_PORT" -t 15 \
	</dev/null >"$BS/log" 2>&1) &
BARESIP=$!
wait_for "select delivery from members where user_id = 'bob'" relay
sipp_wait host
wait "$BARESIP" || true
for what in "180 Ringing" "Call established" \
	"incoming rtp for 'audio' established" "terminated"; do
	if grep -aq "$what" "$BS/log"; then
		log "ok: baresip: $what"
	else
		fail "baresip did not say '$what'"
	fi
done

# What it heard, in 100 ms windows: the pitch of each by zero crossings.
python3 "$SRC/test/lib/heard.py" "$BS" 440 660 || FAILED=1
e2e_finish
