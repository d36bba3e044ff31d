#!/usr/bin/env bash
# Switch time: from the host's /switch to the last member re-pointed, for
# spaces of N members (default 10 and 100), multicast (the member's 200 to
# the re-INVITE) and relay (the first RTP packet of the new channel at the
# member).  A release build, a private PostgreSQL, SIPp on loopback.  All
# the guests are one SIPp process on one socket with SIPp's default buffer
# (as a deployment's P-CSCF is one peer): the re-INVITEs are paced by
# tvspaced's window of unanswered ones (reinvite_window), and the table
# counts the re-INVITEs that came again (retransmissions).  Spaces of more
# than 1,000 members are measured in multicast only (a relay leg is a port).
#   bench/switch.sh [N...]     SWITCH_MODES=multicast: that mode only
. "$(dirname "$0")/lib.sh"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10 100)

run() { # MODE N
	local mode=$1 n=$2 d=$WORK/$1-$2 hold
	mkdir -p "$d"
	bench_db
	bench_tv "$d"
	# guests join at 100/s (500/s past 100 of them); the host waits for
	# them all, then switches
	local jr=100
	[ "$n" -le 100 ] || jr=500
	hold=$((n * 1000 / jr + 3000))
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
		-timeout 300s -trace_msg -message_file "$d/host.msg" \
		127.0.0.1:$SIP >"$d/host.out" 2>&1 &
	local HOST=$!
	sleep 0.5
	# the re-INVITEs as they leave tvspaced, by branch: one sent again
	# is a retransmission, whether or not the first reached SIPp
	python3 bench/sip_count.py 5182 "$d/sent" "$d/wire" &
	local COUNTER=$!
	sleep 0.3
	sipp -sf test/sipp/$gs.xml -m "$n" -l "$n" -r "$jr" -nostdin \
		-i 127.0.0.1 -p 5182 -key target space-1 -key rtp_port 43000 \
		-timeout 300s -trace_msg -message_file "$d/guests.msg" \
		127.0.0.1:$SIP >"$d/guests.out" 2>&1 &
	local GUESTS=$!
	# datagrams the kernel dropped at the guests' socket (its buffer
	# full), the CPU of tvspaced and of the guests' SIPp (which answers
	# every re-INVITE), and the machine's idle time, sampled: which of
	# them the switch waits for
	python3 bench/switch_sample.py "$TV_PID" "$GUESTS" 5182 "$d/drops" \
		"$d/cpu" &
	local SAMPLER=$!
	wait "$GUESTS" || true
	wait "$HOST" || true
	kill "$SAMPLER" "$COUNTER" 2>/dev/null || true
	wait "$SAMPLER" 2>/dev/null || true
	wait "$COUNTER" 2>/dev/null || true
	if [ "$mode" = relay ]; then
		wait "$RX" || true
		python3 bench/switch_times.py relay "$d/host.msg" "$d/rtp.log" \
			>"$d/result"
	else
		python3 bench/switch_times.py multicast "$d/host.msg" \
			"$d/guests.msg" "$d/drops" "$d/cpu" >"$d/result"
	fi
	bench_tv_stop
}

# "members re-pointed": the guests, and in relay mode the host's own leg;
# "again": re-INVITEs the guests received more than once (retransmitted);
# "resent": re-INVITEs tvspaced sent more than once (bench/sip_count.py,
# on the wire); "dropped": datagrams the kernel dropped at the guests'
# socket from the
# switch on (a dropped re-INVITE comes again after T1, 500 ms, and is
# received once); "tv_cpu", "sipp_cpu": the % of a core tvspaced and the
# guests' SIPp used from the switch to the last member re-pointed (one
# near 100 is what the switch waits for), "idle": the machine's idle time
# then, % of all its cores (near 0: the processes of the benchmark, its
# packet counter and samplers included, share out every core);
# "tv_wait", "sipp_wait": the % of that time each was ready to run and
# waited for a core (run-queue delay, /proc/PID/schedstat); "tv_ms": the
# CPU of tvspaced's loop then, ms a member re-pointed; "rtt_p50",
# "rtt_p99": each re-INVITE's own round trip on the wire, from leaving
# tvspaced to the guest's 200 leaving SIPp, ms (bench/sip_count.py).
fmt='%-10s %6s %10s %7s %7s %7s %5s %6s %7s %6s %8s %4s %7s %9s %6s %7s %7s\n'
# shellcheck disable=SC2059
printf "$fmt" mode guests re-pointed p50_ms p99_ms max_ms again resent \
	dropped tv_cpu sipp_cpu idle tv_wait sipp_wait tv_ms rtt_p50 rtt_p99
for n in "${SIZES[@]}"; do
	read -ra modes <<<"${SWITCH_MODES:-multicast relay}"
	[ "$n" -le 1000 ] || modes=(multicast)
	for mode in "${modes[@]}"; do
		run "$mode" "$n"
		read -r got p50 p99 max again dropped tvc sippc idle tvw sippw \
			tvms <"$WORK/$mode-$n/result"
		resent=$(awk '$1 == "INVITE" { print $2 - $3 }' "$WORK/$mode-$n/sent")
		read -r rtt50 rtt99 < <(awk '$1 == "rtt" { print $3, $4 }' \
			"$WORK/$mode-$n/sent")
		# shellcheck disable=SC2059
		printf "$fmt" "$mode" "$n" "$got" "$p50" "$p99" "$max" \
			"${again:--}" "${resent:--}" "${dropped:--}" "${tvc:--}" \
			"${sippc:--}" "${idle:--}" "${tvw:--}" "${sippw:--}" \
			"${tvms:--}" "${rtt50:--}" "${rtt99:--}"
	done
done
echo "reinvite_window: ${BENCH_CONF:-the default}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
machine
