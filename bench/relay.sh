#!/usr/bin/env bash
# Relay throughput: one audio channel (Music Radio, 50 packets a second)
# fanned out by relay to the N guests of a space and its host (default
# N = 100 and 1000), and beside it, in the same run, its peer: rtpengine
# (userspace forwarding, no kernel module) fanning one stream of the same
# packets out to as many subscribers (ng "publish", "subscribe request",
# "subscribe answer": bench/rtpengine_fanout.py).  tvspace runs twice: with
# the demo lineup, whose Music Radio it generates itself (a 440 Hz tone,
# beside the demo's other generated channels), and with only external
# feeds (bench/feeds-lineup.m3u: no generated channel), Music Radio then
# sent into its multicast group by a headend of ours (bench/rtp_feed.py,
# started and stopped by PID).  For each over the same 10 s: RTP packets a
# second counted at the receivers (bench/rtp_count.py), the relay's CPU
# (/proc, all threads), packets a second per core (packets over CPU
# seconds) and CPU per member; then tvspace's figures as ratios to
# rtpengine's.  First, tvspaced's CPU with no space, with each lineup.
#   bench/relay.sh [N...]
# Its ports and multicast groups are fixed: on a shared machine, run it in a
# network namespace of its own (ip netns exec NAME bench/relay.sh).
# rtpengine is run as its manual (rtpengine(8)) and its Debian
# configuration say for userspace-only forwarding: table = -1 (no kernel
# module), one worker thread per core (RTPE_THREADS, default nproc; its own
# default is 4 on a machine of fewer than four cores), and no media playback
# threads (media-num-threads = 0: "if no media playback functionality is
# desired"); logging at notice, nothing per packet either way.
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
RTPE_THREADS=${RTPE_THREADS:-$(nproc)}
WINDOW=10
FEEDS=$SRC/bench/feeds-lineup.m3u
# Music Radio's group in the feeds' lineup.
FEED_GROUP=$(awk '/tvg-id="music"/ { getline; print }' "$FEEDS" |
	sed 's|rtp://@||; s|:.*||')

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
# idle NAME LINEUP: tvspaced with no space at all, over $WINDOW s: what its
# generated channels (sent to their groups, as a headend does) and its loop
# cost before any relay leg.
idle() {
	local d=$WORK/idle-$1 c0
	mkdir -p "$d"
	bench_db
	BENCH_LINEUP=$2 bench_tv "$d"
	sleep 1
	c0=$(cpu_ticks)
	sleep $WINDOW
	awk -v c="$(($(cpu_ticks) - c0))" -v hz="$HZ" -v w="$WINDOW" \
		'BEGIN { printf "%.1f", 100 * c / hz / w }' >"$d/cpu"
	bench_tv_stop
}
idle demo "$SRC/etc/demo-lineup.m3u"
idle feeds "$FEEDS"

# tv_relay NAME N LINEUP: a host and N guests on Music Radio, every leg
# sending to one port; with the feeds' lineup, a headend of ours sends
# Music Radio into its group.
tv_relay() {
	local name=$1 n=$2 lineup=$3 members=$(($2 + 1)) d=$WORK/$1-$2 feed=
	mkdir -p "$d"
	bench_db
	BENCH_LINEUP=$lineup bench_tv "$d"
	if [ "$lineup" = "$FEEDS" ]; then
		python3 bench/rtp_feed.py "$FEED_GROUP" 5004 &
		feed=$!
		BENCH_PIDS+=("$feed")
	fi
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
	window "$name" $members "$TV_PID" "$d"
	wait "$HOST" "$GUESTS" || true
	bench_tv_stop
	if [ -n "$feed" ]; then
		kill "$feed"
		wait "$feed" || true
	fi
	rx_stop
}

for n in "${SIZES[@]}"; do
	members=$((n + 1))
	tv_relay tvspace "$n" "$SRC/etc/demo-lineup.m3u"
	tv_relay tvspace-feed "$n" "$FEEDS"

	# rtpengine: one published stream, as many subscribers
	d=$WORK/rtpengine-$n
	mkdir -p "$d"
	rtpengine --config-file=none --foreground --log-stderr --log-level=5 \
		--table=-1 --num-threads="$RTPE_THREADS" --media-num-threads=0 \
		--interface=127.0.0.1 \
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
echo "tvspaced with no space: $(cat "$WORK/idle-demo/cpu") % of a core with the demo lineup (generated channels), $(cat "$WORK/idle-feeds/cpu") % with external feeds only"
echo "rtpengine: userspace (table -1), $RTPE_THREADS worker threads"
python3 - "$WORK/results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, members, pps, cpu, ssrcs = line.split()
    rows.setdefault(int(members), {})[name] = (float(pps), float(cpu))
print('%-8s %-24s %10s %8s %14s %16s' % ('members', 'relay', 'pkts/s',
      'cpu_%', 'pkts/s/core', 'cpu_us/member/s'))
for members, r in rows.items():
    figs = {}
    for name, (pps, cpu) in r.items():
        figs[name] = (pps, 100 * cpu, pps / cpu if cpu else float('inf'),
                      cpu * 1e6 / members)
        print('%-8d %-24s %10.0f %8.1f %14.0f %16.1f' % ((members, name) +
                                                         figs[name]))
    p = figs.get('rtpengine')
    for name in ('tvspace', 'tvspace-feed'):
        t = figs.get(name)
        if t and p:
            print('%-8d %-24s %10.2f %8.2f %14.2f %16.2f' % (
                (members, name + ' / rtpengine') +
                tuple(a / b if b else float('inf') for a, b in zip(t, p))))
PY
machine
