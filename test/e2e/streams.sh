#!/usr/bin/env bash
# Channels of a picture and its sound, two RTP streams (VP8 or H.264 with
# PCMU, from scripts/headend.sh), for a relay member as rtpengine would be
# one for a browser: the answer has each of the offer's m= lines in order
# (a stream on each line of its media, the data channel refused), the legs
# send the payload types the offer chose, the video from a keyframe; the
# host switches between VP8 and H.264 channels without a new offer, each
# switch starting at a keyframe (from the cache once a channel was
# watched), and is refused another media; an audio-only member hears the
# sound; a member whose offer had no H.264 stays on its channel and is told
# so; tvspaced stops keeping the dialogs and starts again, and every
# member's legs come back, each stream where its answer to the re-INVITE
# says (test/lib/streams_check.py, which prints what it measured).
#
# Ports: SIP 5070, the parties 5091-5093, their RTP 41010-41032; the
# headend's groups 232.20.0.11-13.
. "$(dirname "$0")/../lib/e2e.sh"

command -v ffmpeg >/dev/null || die "ffmpeg is not installed (scripts/deps.sh)"
HEADEND_PID=
streams_cleanup() {
	[ -z "$HEADEND_PID" ] || kill -TERM "$HEADEND_PID" 2>/dev/null || true
	[ -z "$HEADEND_PID" ] || wait "$HEADEND_PID" 2>/dev/null || true
	e2e_cleanup
}
trap streams_cleanup EXIT

db_fresh
tv_config
sed "s|tvspace-generate=\"ts:|tvspace-generate=\"ts:$SRC/etc/|" \
	"$SRC/etc/demo-lineup.m3u" >"$E2E_DIR/lineup.m3u"
grep -v '^#EXTM3U' "$SRC/etc/headend-lineup.m3u" >>"$E2E_DIR/lineup.m3u"
sed -i "s|^lineup = .*|lineup = $E2E_DIR/lineup.m3u|" "$E2E_DIR/tvspace.conf"
"$TVSPACED" --config "$E2E_DIR/tvspace.conf" --check >"$E2E_DIR/check.log" \
	2>&1 || die "tvspaced --check refuses the lineup: $(tail -n 1 "$E2E_DIR/check.log")"

# A small picture: the encoders share the machine with everything else.
"$SRC/scripts/headend.sh" -l "$SRC/etc/headend-lineup.m3u" -s 320x180 \
	-L "$E2E_DIR" >"$E2E_DIR/headend.log" 2>&1 &
HEADEND_PID=$!
tv_start
sleep 1
kill -0 "$HEADEND_PID" 2>/dev/null || die "the headend stopped: $(tail -n 3 "$E2E_DIR/headend.log")"

# The check stops at its restart: tvspaced stops keeping the dialogs
# (SIGTERM) and starts again, and the members' legs must come back.
mkdir -p "$E2E_DIR/restart"
python3 "$SRC/test/lib/streams_check.py" "$SIP_PORT" \
	"$E2E_DIR/results.json" "$E2E_DIR/restart" &
CHECK_PID=$!
for i in $(seq 1 600); do
	[ -e "$E2E_DIR/restart/stop" ] && break
	kill -0 "$CHECK_PID" 2>/dev/null || break
	sleep 0.1
done
if [ -e "$E2E_DIR/restart/stop" ]; then
	tv_stop
	tv_start
	touch "$E2E_DIR/restart/started"
fi
wait "$CHECK_PID" || FAILED=1
e2e_finish
