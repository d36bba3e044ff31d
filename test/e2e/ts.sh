#!/usr/bin/env bash
# The channels the server plays itself, as a headend would: Demo News is a
# transport stream file paced by its PCR (400 kbit/s), Music Radio a 440 Hz
# tone.  A multicast member that joins their groups receives them, and a
# relay member with an MP2T offer receives the stream in RTP (RFC 2250):
# whole packets in sync, every PID's continuity counter without a gap (the
# file loops every 5.1 s and the counters run on), the PAT, the file's rate.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

python3 "$SRC/test/lib/rtp_recv.py" 232.10.0.1:5004 7 >"$E2E_DIR/news.mc" &
NEWS_MC=$!
python3 "$SRC/test/lib/rtp_recv.py" 232.10.0.4:5004 2 >"$E2E_DIR/music.mc" &
MUSIC_MC=$!
python3 "$SRC/test/lib/rtp_recv.py" 41010 7 >"$E2E_DIR/host.rtp" &
HOST_RTP=$!
wait_udp 41010
MEDIA_PORT=41010 sipp_start host host_relay_video alice share 5091 6500
wait_for "select count(*) from spaces where state = 'live'" 1
expect_sql "select channel || ':' || (select delivery from members) from spaces" \
	"news:relay"
sipp_wait host
wait "$NEWS_MC" "$MUSIC_MC" "$HOST_RTP"

# Seven seconds: more than one pass of the file.
ts_ok='r["packets"] > 200 and r["pt"] == [33] and r["ssrcs"] == 1
	and r["seq_gaps"] == 0 and r["ts_sync_errors"] == 0
	and r["cc_errors"] == 0 and r["pat"] >= 5 and len(r["pids"]) >= 3
	and 340000 < r["bitrate"] < 460000'
check_json news.mc "$ts_ok"
check_json host.rtp "$ts_ok and r[\"markers\"] == [0]"
check_json music.mc 'r["pt"] == [0] and r["ts_steps"] == [160]
	and abs(r["tones"][0] - 440) < 20'
e2e_finish
