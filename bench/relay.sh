#!/usr/bin/env bash
# Relay throughput: one audio channel (Music Radio, 50 packets a second)
# fanned out by relay to the N members of a space (default 100 and 1000),
# and what it costs: RTP packets sent a second (tvspaced's own counter),
# tvspaced's CPU over the same 5 s (/proc), packets a second per core
# (packets over CPU seconds) and CPU per member.
#   bench/relay.sh [N...]
. "$(dirname "$0")/lib.sh"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000)
HZ=$(getconf CLK_TCK)

printf '%-8s %10s %8s %14s %16s\n' members pkts/s cpu_% pkts/s/core cpu_us/member/s
for n in "${SIZES[@]}"; do
	d=$WORK/relay-$n
	mkdir -p "$d"
	bench_db
	bench_tv "$d"
	# the members' RTP port: a socket that takes the packets
	python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 43000)); time.sleep(float(__import__("sys").argv[1]))' \
		$((n / 200 + 20)) &
	BENCH_PIDS+=($!)
	hold=$((n / 200 * 1000 + 12000))
	sipp -sf test/sipp/bench_host_relay.xml -m 1 -nostdin -i 127.0.0.1 \
		-p 5091 -key user erin -key target share -key rtp_port 43000 \
		-d "$hold" -timeout 120s 127.0.0.1:$SIP >"$d/host.out" 2>&1 &
	HOST=$!
	sleep 0.5
	sipp -sf test/sipp/bench_guest_relay.xml -m "$n" -l "$n" -r 200 \
		-nostdin -i 127.0.0.1 -p 5092 -key target space-1 \
		-key rtp_port 43000 -timeout 120s 127.0.0.1:$SIP \
		>"$d/guests.out" 2>&1 &
	GUESTS=$!
	for _ in $(seq 1 300); do
		[ "$(psql "$CONN" -XAtc "select count(*) from members where left_at is null")" -ge $((n + 1)) ] && break
		sleep 0.1
	done
	sleep 1
	p0=$(metric tvspace_rtp_packets_relayed_total)
	c0=$(cpu_ticks)
	t0=$(date +%s.%N)
	sleep 5
	p1=$(metric tvspace_rtp_packets_relayed_total)
	c1=$(cpu_ticks)
	t1=$(date +%s.%N)
	python3 -c "
p, c, t, n, hz = $p1 - $p0, ($c1 - $c0) / $HZ, $t1 - $t0, $n, $HZ
pps, cpu = p / t, c / t
print('%-8d %10.0f %8.1f %14.0f %16.1f' % (n + 1, pps, 100 * cpu,
      pps / cpu if cpu else float('inf'), cpu * 1e6 / (n + 1)))"
	wait "$HOST" "$GUESTS" || true
	bench_tv_stop
done
machine
