#!/usr/bin/env bash
# Switch time: from the host's /switch to the last member re-pointed, for
# spaces of N members (default 10 and 100), multicast (the member's 200 to
# the re-INVITE) and relay (the first RTP packet of the new channel at the
# member).  A release build, a private PostgreSQL, SIPp on loopback.
#   bench/switch.sh [N...]
. "$(dirname "$0")/lib.sh"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10 100)

run() { # MODE N
	local mode=$1 n=$2 d=$WORK/$1-$2 hold
	mkdir -p "$d"
	bench_db
	bench_tv "$d"
	# guests join at 100/s; the host waits for them all, then switches
	hold=$((n * 10 + 1500))
	local hs=bench_host gs=bench_guest
	if [ "$mode" = relay ]; then
		hs=bench_host_relay
		gs=bench_guest_relay
		python3 bench/relay_rx.py 43000 $((hold / 1000 + 6)) >"$d/rtp.log" &
		RX=$!
		sleep 0.5
	fi
	sipp -sf test/sipp/$hs.xml -m 1 -nostdin -i 127.0.0.1 -p 5181 \
		-key user erin -key target share -key rtp_port 43000 -d "$hold" \
		-timeout 120s -trace_msg -message_file "$d/host.msg" \
		127.0.0.1:$SIP >"$d/host.out" 2>&1 &
	local HOST=$!
	sleep 0.5
	sipp -sf test/sipp/$gs.xml -m "$n" -l "$n" -r 100 -nostdin \
		-i 127.0.0.1 -p 5182 -key target space-1 -key rtp_port 43000 \
		-timeout 120s -trace_msg -message_file "$d/guests.msg" \
		127.0.0.1:$SIP >"$d/guests.out" 2>&1 || true
	wait "$HOST" || true
	if [ "$mode" = relay ]; then
		wait "$RX" || true
		python3 bench/switch_times.py relay "$d/host.msg" "$d/rtp.log" \
			>"$d/result"
	else
		python3 bench/switch_times.py multicast "$d/host.msg" \
			"$d/guests.msg" >"$d/result"
	fi
	bench_tv_stop
}

# "members re-pointed": the guests, and in relay mode the host's own leg.
printf '%-10s %8s %10s %8s %8s %8s\n' mode guests re-pointed p50_ms p99_ms max_ms
for n in "${SIZES[@]}"; do
	for mode in multicast relay; do
		run "$mode" "$n"
		read -r got p50 p99 max <"$WORK/$mode-$n/result"
		printf '%-10s %8s %10s %8s %8s %8s\n' "$mode" "$n" "$got" "$p50" \
			"$p99" "$max"
	done
done
machine
