#!/usr/bin/env bash
# Relay delivery: members whose offer has a unicast address get the
# channel's RTP from the server (ortp).  The host's /switch changes the
# source: each member keeps its SSRC, sequence numbers and timestamps run
# on without a gap, the first packet of the new channel has the marker bit,
# and the tone changes from 440 Hz (music) to 660 Hz (kids).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

python3 "$SRC/test/lib/rtp_recv.py" 41000 5 >"$E2E_DIR/host.rtp" &
HOST_RTP=$!
python3 "$SRC/test/lib/rtp_recv.py" 41002 5 >"$E2E_DIR/guest.rtp" &
GUEST_RTP=$!
# The receivers must be bound before the first packet is sent.
wait_udp 41000 41002
MEDIA_PORT=41000 sipp_start host host_relay alice share 5091 1500
wait_for "select count(*) from spaces where state = 'live'" 1
sipp -sf "$SCEN/guest_relay.xml" -m 1 -nostdin -i 127.0.0.1 -p 5092 \
	-key user bob -key target space-1 -key rtp_port 41002 \
	-timeout 40s -timeout_error -trace_err \
	-error_file "$E2E_DIR/guest.errors" "127.0.0.1:$SIP_PORT" \
	>"$E2E_DIR/guest.out" 2>&1 || fail "guest: sipp failed"
sipp_wait host
wait "$HOST_RTP" "$GUEST_RTP"
expect_sql "select string_agg(user_id || ':' || delivery, ',' order by admitted_seq) from members" \
	"alice:relay,bob:relay"

check_rtp() { # NAME
	python3 - "$E2E_DIR/$1.rtp" "$1" <<'PY' || FAILED=1
import json, sys
r = json.load(open(sys.argv[1]))
name = sys.argv[2]
print(name, r)
ok = (r["packets"] > 50 and r["ssrcs"] == 1 and r["seq_gaps"] == 0
      and r["ts_steps"] == [160] and r["markers"][0] == 0
      and len(r["markers"]) == 2 and len(r["tones"]) == 2
      and abs(r["tones"][0] - 440) < 20 and abs(r["tones"][1] - 660) < 20)
sys.exit(0 if ok else 1)
PY
}
check_rtp host
check_rtp guest
e2e_finish
