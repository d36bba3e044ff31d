#!/usr/bin/env bash
# Instant channel change for channels that come from a headend's multicast
# feed, not from the server: two MP2T feeds (the demo's streams, sent by
# test/lib/ts_send.py to their groups on loopback), a relay member zapping
# between them; the server learns each feed's video PID from its PCR and
# keeps its packets since the last keyframe, so every stretch the member
# gets starts decodable at once.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
cat >"$E2E_DIR/feeds.m3u" <<'M3U'
#EXTM3U
#EXTINF:-1 tvg-id="news" tvg-chno="1",Feed News
rtp://@232.10.0.11:5004
#EXTINF:-1 tvg-id="sports" tvg-chno="2",Feed Sports
rtp://@232.10.0.12:5004
M3U
tv_config
sed -i "s|^lineup = .*|lineup = $E2E_DIR/feeds.m3u|" "$E2E_DIR/tvspace.conf"
tv_start
python3 "$SRC/test/lib/ts_send.py" 14 \
	"$SRC/etc/demo-news.ts" 232.10.0.11:5004 \
	"$SRC/etc/demo-sports.ts" 232.10.0.12:5004 &
SENDER=$!
python3 "$SRC/test/lib/rtp_recv.py" 41030 11 >"$E2E_DIR/feed.rtp" &
RX=$!
wait_udp 41030
# The feeds run a while first, so the server has seen a keyframe of each.
sleep 2
MEDIA_PORT=41030 sipp_start host host_relay_zapping alice share 5091 1000
sipp_wait host
wait "$RX"
kill "$SENDER" 2>/dev/null || true
wait "$SENDER" 2>/dev/null || true
python3 - "$E2E_DIR/feed.rtp" <<'PY' || FAILED=1
import json, sys
r = json.load(open(sys.argv[1]))
t = r["ttff_ms"]
print("feeds, instant_change = yes: stretches %d, time to first decodable "
      "frame ms: %s; max %.1f; cc errors %d" % (len(t), t, max(t),
                                               r["cc_errors"]))
sys.exit(0 if len(t) == 7 and max(t) < 100 and r["cc_errors"] == 0 and
         r["ts_sync_errors"] == 0 else 1)
PY
e2e_finish
