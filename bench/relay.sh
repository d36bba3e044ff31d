#!/usr/bin/env bash
# Relay throughput: one audio channel (Music Radio, 50 packets a second)
# fanned out by relay to the N guests of a space and its host (default
# N = 100 and 1000), and beside it, in the same run, its peer: rtpengine
# (userspace forwarding, no kernel module) fanning one stream of the same
# packets out to as many subscribers (ng "publish", "subscribe request",
# "subscribe answer": bench/rtpengine_fanout.py).  For each over the same
# 10 s: RTP packets a second counted at the receivers (bench/rtp_count.py),
# the relay's CPU (/proc, all threads), packets a second per core (packets
# over CPU seconds) and CPU per member; then tvspace's figures as ratios
# to rtpengine's.
#   bench/relay.sh [N...]
. "$(dirname "$0")/lib.sh"
if ! command -v rtpengine >/dev/null; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq --no-install-recommends rtpengine-daemon >/dev/null
fi
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000)
HZ=$(getconf CLK_TCK)
RX_PORT=43000
RTPE_NG=22230
RTPE_SRC=43010
WINDOW=10

# rx_start DIR: the members' RTP port, counting what arrives.
rx_start() {
	python3 bench/rtp_count.py $RX_PORT >"$1/rx.log" &
	RX=$!
	BENCH_PIDS+=("$RX")
}

# The receivers stay until the relay stops: a closed port would cost the
# relay an ICMP error a packet.
rx_stop() {
	kill "$RX"
	wait "$RX" || true
}

# window NAME MEMBERS PID DIR: over $WINDOW s, the packets counted at the
# receivers and PID's CPU; appends "NAME MEMBERS pkts/s cpu" to results.
window() {
	local name=$1 members=$2 pid=$3 d=$4 c0 c1 t0 t1
	kill -USR1 "$RX"
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	sleep $WINDOW
	kill -USR1 "$RX"
	c1=$(cpu_ticks "$pid")
	t1=$(date +%s.%N)
	sleep 0.2
	tail -2 "$d/rx.log" | python3 -c "
import sys
(ta, pa, _), (tb, pb, ssrcs) = [map(float, l.split()) for l in sys.stdin]
print('$name', $members, (pb - pa) / (tb - ta),
      ($c1 - $c0) / $HZ / ($t1 - $t0), int(ssrcs))" >>"$WORK/results"
}

: >"$WORK/results"
# tvspaced with no space at all: what its generated channels (sent to their
# groups, as a headend does) and its loop cost before any relay leg.
d=$WORK/idle
mkdir -p "$d"
bench_db
bench_tv "$d"
sleep 1
c0=$(cpu_ticks)
sleep $WINDOW
idle=$(awk -v c="$(($(cpu_ticks) - c0))" -v hz="$HZ" -v w="$WINDOW" \
	'BEGIN { printf "%.1f", 100 * c / hz / w }')
bench_tv_stop
for n in "${SIZES[@]}"; do
	members=$((n + 1))
	# tvspace: a host and n guests, every leg sending to one port
	d=$WORK/relay-$n
	mkdir -p "$d"
	bench_db
	bench_tv "$d"
	rx_start "$d"
	hold=$((n / 200 * 1000 + WINDOW * 1000 + 8000))
	sipp -sf test/sipp/bench_host_relay.xml -m 1 -nostdin -i 127.0.0.1 \
		-p 5181 -key user erin -key target share -key rtp_port $RX_PORT \
		-d "$hold" -timeout 120s 127.0.0.1:$SIP >"$d/host.out" 2>&1 &
	HOST=$!
	sleep 0.5
	sipp -sf test/sipp/bench_guest_relay.xml -m "$n" -l "$n" -r 200 \
		-nostdin -i 127.0.0.1 -p 5182 -key target space-1 \
		-key rtp_port $RX_PORT -timeout 120s 127.0.0.1:$SIP \
		>"$d/guests.out" 2>&1 &
	GUESTS=$!
	for _ in $(seq 1 300); do
		[ "$(psql "$CONN" -XAtc "select count(*) from members where left_at is null")" -ge $members ] && break
		sleep 0.1
	done
	sleep 1
	window tvspace $members "$TV_PID" "$d"
	wait "$HOST" "$GUESTS" || true
	bench_tv_stop
	rx_stop

	# rtpengine: one published stream, as many subscribers
	d=$WORK/rtpengine-$n
	mkdir -p "$d"
	rtpengine --config-file=none --foreground --log-stderr --log-level=5 \
		--table=-1 --interface=127.0.0.1 \
		--listen-ng=127.0.0.1:$RTPE_NG --port-min=44000 \
		--port-max=47999 --delete-delay=0 >"$d/rtpengine.log" 2>&1 &
	RTPE=$!
	BENCH_PIDS+=("$RTPE")
	rx_start "$d"
	python3 bench/rtpengine_fanout.py $RTPE_NG $RTPE_SRC $RX_PORT \
		$members $((WINDOW + 3)) >"$d/fanout.out" 2>&1 &
	FAN=$!
	for _ in $(seq 1 300); do
		grep -q ready "$d/fanout.out" && break
		kill -0 "$FAN" 2>/dev/null || {
			cat "$d/fanout.out" "$d/rtpengine.log" >&2
			exit 1
		}
		sleep 0.1
	done
	sleep 1
	window rtpengine $members "$RTPE" "$d"
	wait "$FAN"
	kill "$RTPE"
	wait "$RTPE" || true
	rx_stop
done
echo "load: $(cat /proc/loadavg)"
echo "tvspaced with no space: $idle % of a core (in its figures below)"
python3 - "$WORK/results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, members, pps, cpu, ssrcs = line.split()
    rows.setdefault(int(members), {})[name] = (float(pps), float(cpu))
print('%-8s %-10s %10s %8s %14s %16s' % ('members', 'relay', 'pkts/s',
      'cpu_%', 'pkts/s/core', 'cpu_us/member/s'))
for members, r in rows.items():
    figs = {}
    for name, (pps, cpu) in r.items():
        figs[name] = (pps, 100 * cpu, pps / cpu if cpu else float('inf'),
                      cpu * 1e6 / members)
        print('%-8d %-10s %10.0f %8.1f %14.0f %16.1f' % ((members, name) +
                                                         figs[name]))
    if len(figs) == 2:
        t, p = figs['tvspace'], figs['rtpengine']
        print('%-8d %-10s %10.2f %8.2f %14.2f %16.2f' % ((members, 'ratio') +
              tuple(a / b if b else float('inf') for a, b in zip(t, p))))
PY
machine
