#!/usr/bin/env bash
# A remote control on a relay: the member's offer carries telephone-event,
# the answer takes it (sendrecv); keys 5 then # pressed as RFC 4733 events
# on the RTP switch the space to channel 5 (kids), and what the member
# hears changes from 440 Hz to 660 Hz with the marker bit on the first new
# packet.  Events from anyone but the member are dropped.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

PORTFILE=$E2E_DIR/leg.port
python3 "$SRC/test/lib/rtp_recv.py" 41000 5 "5#" 2 "$PORTFILE" \
	>"$E2E_DIR/host.rtp" &
RX=$!
wait_udp 41000
MEDIA_PORT=41000 sipp_start host host_relay_keys alice share 5091 4000
for _ in $(seq 1 50); do
	port=$({ sed -n 's/^m=audio \([0-9]*\) RTP.*/\1/p' \
		"$E2E_DIR/host.msg" 2>/dev/null || true; } | sed -n 2p)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || die "no relay port in the answer"
echo "$port" >"$PORTFILE"
# a stranger pressing keys at the same leg changes nothing
python3 - "$port" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(4):
    s.sendto(struct.pack("!BBHIIBBH", 0x80, 101, n, 99, 7, 3, 0x80, 800),
             ("127.0.0.1", int(sys.argv[1])))
s.sendto(struct.pack("!BBHIIBBH", 0x80, 101, 9, 99, 7, 11, 0x80, 800),
         ("127.0.0.1", int(sys.argv[1])))
PY
sipp_wait host
wait "$RX" || true
expect_sql "select channel from spaces" kids
n=$(grep -c "key command" "$E2E_DIR/tvspaced.log" || true)
[ "$n" -eq 1 ] || fail "$n key commands taken; only the member's one counts"
python3 - "$E2E_DIR/host.rtp" <<'PY' || fail "the RTP did not change channel"
import json, sys
r = json.load(open(sys.argv[1]))
print("host", r)
sys.exit(0 if r["ssrcs"] == 1 and r["seq_gaps"] == 0
         and len(r["markers"]) == 2 and abs(r["tones"][0] - 440) < 20
         and abs(r["tones"][1] - 660) < 20 else 1)
PY
e2e_finish
