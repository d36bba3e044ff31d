#!/usr/bin/env bash
# Subscribers provisioned: for each size, a fresh database with that many
# users and services (INSERT ... SELECT FROM generate_series, as an
# operator provisions), then tvspaced started on it: the time from its
# start to its "ready:" line, its resident memory once ready, its CPU while
# idle over 10 s (no space; then one open space), and a join's time from
# INVITE to 200 (p50, p99) at the join rate of bench/join.sh into that open
# space; then how long SIGTERM takes to stop it.  Every wait is bounded: a
# server that is not ready in READY_S seconds is reported so ("not ready
# after N s"), its memory and CPU measured all the same, and killed.
#   bench/subscribers.sh [SIZE...]     default: 10000 100000 1000000
#   READY_S=120 JOIN_RATE=400 JOIN_S=5 bench/subscribers.sh
. "$(dirname "$0")/lib.sh"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)
READY_S=${READY_S:-120}
JOIN_RATE=${JOIN_RATE:-400}
JOIN_S=${JOIN_S:-5}
STOP_S=${STOP_S:-15}
HZ=$(getconf CLK_TCK)

# The log's clock of a line: "2026-11-30 05:40:08.696 ..." -> seconds.
log_time() { # FILE PATTERN
	local line
	line=$(grep -m1 -- "$2" "$1" || true)
	[ -n "$line" ] || return 0
	date -d "$(cut -c1-23 <<<"$line")" +%s.%N
}

rss_mib() {
	awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$TV_PID/status" 2>/dev/null || echo -
}

# idle_cpu SECONDS: tvspaced's CPU over that long, % of one core.
idle_cpu() {
	local c0 c1
	c0=$(cpu_ticks)
	sleep "$1"
	c1=$(cpu_ticks)
	awk -v d=$((c1 - c0)) -v hz="$HZ" -v s="$1" 'BEGIN { printf "%.1f%%", 100 * d / hz / s }'
}

# sub_tv DIR: tvspaced on $SIP, logs in DIR; returns at once.
sub_tv() {
	cat >"$1/tv.conf" <<CONF
listen = sip:127.0.0.1:$SIP
lineup = $SRC/etc/demo-lineup.m3u
trust_loopback_from = yes
log_level = info
rtp_port_min = 30000
rtp_port_max = 39999
member_notices = no
CONF
	"$BUILD/tvspaced" --config "$1/tv.conf" --db "$CONN" >"$1/tv.log" 2>&1 &
	TV_PID=$!
}

# sub_tv_stop: SIGTERM, then SIGKILL after STOP_S; prints the seconds
# SIGTERM took, or "killed" when it did not stop.
sub_tv_stop() {
	local t0 i
	t0=$(date +%s.%N)
	kill -TERM "$TV_PID" 2>/dev/null || true
	for i in $(seq 1 $((STOP_S * 10))); do
		kill -0 "$TV_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TV_PID" 2>/dev/null; then
		kill -KILL "$TV_PID" 2>/dev/null || true
		wait "$TV_PID" 2>/dev/null || true
		TV_PID=
		echo "killed"
		return
	fi
	wait "$TV_PID" 2>/dev/null || true
	TV_PID=
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

provision() { # N
	psql "$CONN" -Xq -v ON_ERROR_STOP=1 <<SQL >/dev/null
INSERT INTO users (user_id) SELECT 'sub' || g FROM generate_series(1, $1) g;
INSERT INTO services (service_default_id, user_id, level, default_channel,
		      is_default)
SELECT 'svc-sub' || g, 'sub' || g, 1 + g % 3, 'news', true
  FROM generate_series(1, $1) g;
SQL
}

printf '%-10s %11s %8s %8s %8s %9s %11s %6s %6s %7s %7s %7s\n' \
	subscribers provision_s ready_s rss_MiB idle_cpu idle_cpu1 join_rate \
	ok failed p50_ms p99_ms stop_s | tee "$WORK/results"
for n in "${SIZES[@]}"; do
	d=$WORK/subs-$n
	mkdir -p "$d"
	bench_db
	t0=$(date +%s.%N)
	provision "$n"
	prov=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	psql "$CONN" -Xqc "VACUUM ANALYZE" >/dev/null
	sub_tv "$d"
	ready=
	for _ in $(seq 1 $((READY_S * 10))); do
		grep -q "ready:" "$d/tv.log" && ready=1 && break
		kill -0 "$TV_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -n "$ready" ]; then
		s0=$(log_time "$d/tv.log" "starting, lineup")
		s1=$(log_time "$d/tv.log" "ready:")
		ready_s=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')
	else
		ready_s=-
	fi
	rss=$(rss_mib)
	idle=$(idle_cpu 10)
	idle1=- ok=- failed=- p50=- p99=-
	if [ -n "$ready" ]; then
		# erin's open space (the premium level holds 5000), then the
		# joiners of bench/join.sh at JOIN_RATE for JOIN_S seconds
		sipp -sf test/sipp/host_open.xml -m 1 -nostdin -i 127.0.0.1 \
			-p 5181 -key user erin -key target share -d 600000 \
			-timeout 700s 127.0.0.1:$SIP >"$d/host.out" 2>&1 &
		HOST=$!
		BENCH_PIDS+=("$HOST")
		for _ in $(seq 1 100); do
			[ "$(psql "$CONN" -XAtc "select count(*) from spaces where is_open")" = 1 ] && break
			sleep 0.1
		done
		idle1=$(idle_cpu 10)
		j=$d/join
		mkdir -p "$j"
		rc=0
		(cd "$j" && timeout $((JOIN_S + 90)) sipp -sf "$SRC/test/sipp/bench_join.xml" \
			-m $((JOIN_RATE * JOIN_S)) -r "$JOIN_RATE" \
			-l $((JOIN_RATE * 4)) -nostdin -i 127.0.0.1 -p 5182 \
			-key target space-1 -d 1000 -timeout 60s \
			-trace_logs -trace_stat -fd 1 \
			"127.0.0.1:$SIP" >sipp.out 2>&1) || rc=$?
		read -r _ _ ok failed _ p50 p99 _ < <(python3 bench/join_stats.py "$j" tvspace "$JOIN_RATE" "$rc")
		kill "$HOST" 2>/dev/null || true
		wait "$HOST" 2>/dev/null || true
	fi
	stop=$(sub_tv_stop)
	printf '%-10s %11s %8s %8s %8s %9s %11s %6s %6s %7s %7s %7s\n' \
		"$n" "$prov" "$ready_s" "$rss" "$idle" "$idle1" \
		"$JOIN_RATE/s" "$ok" "$failed" "$p50" "$p99" "$stop" |
		tee -a "$WORK/results"
	[ -n "$ready" ] ||
		echo "  $n subscribers: not ready after $READY_S s" |
		tee -a "$WORK/results"
done
echo "ready_s: from the log's \"starting\" line to its \"ready:\" line;" \
	"idle_cpu: 10 s with no space; idle_cpu1: 10 s with one open space;" \
	"stop_s: SIGTERM to exit (killed: not within $STOP_S s)"
machine
