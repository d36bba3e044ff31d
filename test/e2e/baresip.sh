#!/usr/bin/env bash
# A real softphone: baresip (Debian's baresip-core) dials a space URI,
# rings while the host is asked, is admitted, and receives the channel by
# relay (RTP from the server); the host's BYE ends its call.  (Recording
# what it hears needs an audio sink that keeps time, which this machine
# lacks; the relay test checks the RTP itself.)
. "$(dirname "$0")/../lib/e2e.sh"
command -v baresip >/dev/null || { log "baresip is not installed"; exit 1; }
db_fresh
tv_start

BS=$E2E_DIR/baresip
mkdir -p "$BS"
python3 - "$BS/silence.wav" <<'PY'
import sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"\0\0" * 8000 * 30); w.close()
PY
sed -e "s|@SIP_PORT@|5096|" -e "s|@SILENCE@|$BS/silence.wav|" \
	"$SRC/test/data/baresip/config" >"$BS/config"
cp "$SRC/test/data/baresip/accounts" "$BS/accounts"
touch "$BS/contacts"

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
e2e_finish
