#!/usr/bin/env bash
# A real softphone holds the remote: baresip, as frank, dials the factory
# URI and starts a space on his service's channel, Music Radio (440 Hz,
# relay).  Pressing 5 then # on its keypad sends RFC 4733 events on the
# RTP; the server switches the space to channel 5, Kids Radio, and what
# baresip records turns to 660 Hz.
. "$(dirname "$0")/../lib/e2e.sh"
command -v baresip >/dev/null || { log "baresip is not installed"; exit 1; }
db_fresh
tv_start

BS=$E2E_DIR/baresip
mkdir -p "$BS"
sed -e "s|@SIP_PORT@|5096|" -e "s|@DIR@|$BS|" \
	"$SRC/test/data/baresip/config" >"$BS/config"
sed "s|sip:bob@|sip:frank@|" "$SRC/test/data/baresip/accounts" >"$BS/accounts"
touch "$BS/contacts"
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

python3 - "$BS" <<'PY' || FAILED=1
import glob, sys, wave
files = glob.glob(sys.argv[1] + "/dump-*-dec.wav")
if not files:
    sys.exit("no recording of what baresip heard")
w = wave.open(files[0])
rate, width = w.getframerate(), w.getsampwidth()
data = w.readframes(w.getnframes())
samples = [int.from_bytes(data[i:i + width], "little", signed=True)
           for i in range(0, len(data) - width + 1, width * w.getnchannels())]
win = rate // 10
runs = []
for lo in range(0, len(samples) - win + 1, win):
    x = samples[lo:lo + win]
    hz = sum(1 for a, b in zip(x, x[1:]) if a < 0 <= b) * 10
    t = ("-" if max(abs(v) for v in x) < 1000 else
         "440" if abs(hz - 440) <= 20 else "660" if abs(hz - 660) <= 20 else "?")
    if runs and runs[-1][0] == t:
        runs[-1][1] += 1
    else:
        runs.append([t, 1])
print("baresip heard (tone, 100 ms windows):", runs)
tones = [t for t, n in runs if t in ("440", "660") and n >= 10]
sys.exit(0 if tones == ["440", "660"] else 1)
PY
e2e_finish
