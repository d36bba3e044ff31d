#!/usr/bin/env bash
# A real softphone: baresip (Debian's baresip-core) dials a space URI,
# rings while the host is asked, is admitted, and receives the channel by
# relay (RTP from the server).  It records what it hears: Music Radio's
# 440 Hz until the host's /switch kids, then Kids Radio's 660 Hz, and the
# host's BYE ends its call.
. "$(dirname "$0")/../lib/e2e.sh"
command -v baresip >/dev/null || { log "baresip is not installed"; exit 1; }
db_fresh
tv_start

BS=$E2E_DIR/baresip
mkdir -p "$BS"
sed -e "s|@SIP_PORT@|5096|" -e "s|@DIR@|$BS|" \
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

# What it heard, in 100 ms windows: the pitch of each by zero crossings.
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
heard = []
for lo in range(0, len(samples) - win + 1, win):
    x = samples[lo:lo + win]
    if max(abs(v) for v in x) < 1000:
        heard.append("-")           # silence
        continue
    hz = sum(1 for a, b in zip(x, x[1:]) if a < 0 <= b) * 10
    heard.append("440" if abs(hz - 440) <= 20 else
                 "660" if abs(hz - 660) <= 20 else "?")
runs = []
for h in heard:
    if runs and runs[-1][0] == h:
        runs[-1][1] += 1
    else:
        runs.append([h, 1])
print("baresip heard (tone, 100 ms windows):", runs)
tones = [t for t, n in runs if t in ("440", "660") and n >= 10]
sys.exit(0 if tones == ["440", "660"] else 1)
PY
e2e_finish
