#!/usr/bin/env bash
# Instant channel change: a relay member zaps between Demo News (a keyframe
# every second) and Demo Sports (every two) six times.  With
# instant_change = yes each stretch of its stream starts with the PAT, the
# PMT and a keyframe at once; with no, its decoder waits for the next
# keyframe.  The time to the first decodable frame of every stretch is
# measured by the receiver's transport stream checker (PAT, PMT, then a
# video packet with the random_access_indicator), continuity counters are
# checked within each stretch, and both runs are printed side by side.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh

run() { # yes|no
	rm -f "$E2E_DIR/tvspace.conf"
	tv_config
	echo "instant_change = $1" >>"$E2E_DIR/tvspace.conf"
	tv_start
	python3 "$SRC/test/lib/rtp_recv.py" 41020 11 >"$E2E_DIR/icc-$1.rtp" &
	local rx=$!
	wait_udp 41020
	MEDIA_PORT=41020 sipp_start host host_relay_zapping alice share 5091 1000
	sipp_wait host
	wait "$rx"
	tv_stop
}
run yes
run no

python3 - "$E2E_DIR/icc-yes.rtp" "$E2E_DIR/icc-no.rtp" <<'PY' || FAILED=1
import json, sys
on, off = (json.load(open(f)) for f in sys.argv[1:3])
for name, r in (("instant_change = yes", on), ("instant_change = no", off)):
    t = r["ttff_ms"]
    print("%-21s stretches %d, time to first decodable frame ms: %s; "
          "mean %.1f, max %.1f; cc errors %d, sync errors %d" %
          (name, len(t), t, sum(t) / len(t), max(t), r["cc_errors"],
           r["ts_sync_errors"]))
# Without the cache a stretch shorter than the wait for its channel's next
# keyframe (Demo Sports: up to 2 s; a stretch lasts 1.3 s, the last one until
# the hang-up) shows no frame at all and has no time to count: at least 5 of
# the 7 must.  With the cache every stretch starts on a frame.
ok = (len(on["ttff_ms"]) == 7 and len(off["ttff_ms"]) >= 5
      and max(on["ttff_ms"]) < 100
      and sum(off["ttff_ms"]) > sum(on["ttff_ms"])
      and on["cc_errors"] == 0 and off["cc_errors"] == 0
      and on["ts_sync_errors"] == 0 and on["seq_gaps"] == 0
      and on["ssrcs"] == 1 and len(on["markers"]) == 7)
sys.exit(0 if ok else 1)
PY
e2e_finish
