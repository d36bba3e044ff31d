#!/usr/bin/env bash
# Entitlements (PROTOCOL.md): dave's service has no Kids Radio.  He cannot
# start a space on it (403).  In erin's space (relay, Music Radio, 440 Hz)
# with carol and dave, erin's /switch kids re-points carol (660 Hz) but not
# dave: he gets the "not in your package" slate (1 kHz beeps, 200 ms a
# second) and a MESSAGE saying why, and erin is told who cannot follow.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_run dave_start host_not_entitled dave share 5094

for p in 41000 41002 41004; do
	python3 "$SRC/test/lib/rtp_recv.py" $p 7 >"$E2E_DIR/$p.rtp" &
	eval "RX_$p=\$!"
done
wait_udp 41000 41002 41004
MEDIA_PORT=41000 sipp_start host host_relay_switch_kids erin share 5091 2500
wait_for "select is_open from spaces" t
MEDIA_PORT=41002 sipp_start carol guest_relay_open carol space-1 5092
MEDIA_PORT=41004 sipp_start dave guest_relay_slate dave space-1 5093
sipp_wait host
sipp_wait carol
sipp_wait dave
wait "$RX_41000" "$RX_41002" "$RX_41004"
expect_sql "select channel || ':' || state from spaces" "kids:ended"

# erin and carol: 440 Hz, then 660 Hz; dave: 440 Hz, then the slate,
# whose 1 kHz for 200 ms of every second counts as 200 to 300 crossings a
# second over a stretch of 2.5 s (two or three beeps in it).
check_json 41000.rtp 'len(r["tones"]) == 2 and abs(r["tones"][1] - 660) < 20'
check_json 41002.rtp 'len(r["tones"]) == 2 and abs(r["tones"][0] - 440) < 20 and abs(r["tones"][1] - 660) < 20'
check_json 41004.rtp 'len(r["tones"]) == 2 and abs(r["tones"][0] - 440) < 20 and 120 < r["tones"][1] < 320 and r["seq_gaps"] == 0 and r["ssrcs"] == 1'
e2e_finish
