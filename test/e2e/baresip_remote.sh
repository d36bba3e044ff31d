#!/usr/bin/env bash
# A real softphone holds the remote: baresip, as frank, dials the factory
# URI and starts a space on his service's channel, Music Radio (440 Hz,
# relay).  Pressing 5 then # on its keypad sends RFC 4733 events on the
# RTP; the server switches the space to channel 5, Kids Radio, and what
# baresip records turns to 660 Hz.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

baresip_setup frank
# The keypad: what is written to this pipe, baresip reads as key presses.
mkfifo "$BS/keys"
(cd "$BS" && HOME=$BS timeout 30 baresip -f "$BS" \
	-e "/dial sip:share@127.0.0.1:$SIP_PORT" -t 12 \
	<"$BS/keys" >"$BS/log" 2>&1) &
BARESIP=$!
exec 3>"$BS/keys"
wait_for "select channel || ':' || (select delivery from members) from spaces where state = 'live'" \
	"music:relay"
sleep 3
printf '5' >&3
sleep 0.5
printf '#' >&3
wait_for "select channel from spaces" kids
log "ok: the space follows baresip's keys to kids"
wait "$BARESIP" || true
exec 3>&-
wait_for "select state from spaces" ended

python3 "$SRC/test/lib/heard.py" "$BS" 440 660 || FAILED=1
e2e_finish
