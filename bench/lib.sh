# Shared by the benchmarks (sourced): a release build of tvspaced, a
# private PostgreSQL under build-bench/pg, a fresh database with the demo
# subscribers for each run, and tvspaced started and stopped on it.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
scripts/deps.sh
# BENCH_PERF=fp (or dwarf): the same release build with frame pointers
# and debug information (its own directory), and each tvspaced run
# recorded by perf record --call-graph fp (dwarf: through the libraries
# built without frame pointers) into its run directory (perf.data).
BUILD=build-bench
CFLAGS_BENCH=
if [ -n "${BENCH_PERF:-}" ]; then
	BUILD=build-bench-perf
	CFLAGS_BENCH="-g -fno-omit-frame-pointer"
fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTVSPACE_TESTS=OFF \
	-DCMAKE_C_FLAGS="$CFLAGS_BENCH" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target tvspaced >/dev/null
# BENCH_TVSPACED=PATH: run that tvspaced instead of this tree's (another
# build, for a before/after in one run of the same script).
TVSPACED=${BENCH_TVSPACED:-$SRC/$BUILD/tvspaced}
WORK=$SRC/$BUILD/run
rm -rf "$WORK"
mkdir -p "$WORK"
PGDIR=$SRC/$BUILD/pg
PGPORT=54331
scripts/pgctl.sh start "$PGDIR" "$PGPORT"
TV_PID=
PERF_PID=
BENCH_PIDS=()
cleanup() {
	[ -z "$PERF_PID" ] || kill -INT "$PERF_PID" 2>/dev/null || true
	[ -z "$TV_PID" ] || kill "$TV_PID" 2>/dev/null || true
	for p in "${BENCH_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# Gone before the next benchmark binds the same ports.
	for p in $TV_PID "${BENCH_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	scripts/pgctl.sh stop "$PGDIR" "$PGPORT"
}
trap cleanup EXIT
CONN="host=$PGDIR/run port=$PGPORT dbname=tvbench user=postgres"
SIP=5080

# bench_db: a fresh database with the demo data; the premium level holds
# 100,000 members, so a space can take the whole benchmark.
bench_db() {
	scripts/pgctl.sh createdb "$PGDIR" "$PGPORT" tvbench
	"$BUILD/tvspaced" --db "$CONN" --migrate >/dev/null 2>&1
	psql "$CONN" -Xq -f db/demo.sql >/dev/null
	psql "$CONN" -Xqc "update service_levels set capacity = 100000 where level = 3" >/dev/null
}

# bench_tv DIR: tvspaced on $SIP with the demo lineup (or $BENCH_LINEUP),
# logs in DIR.  Members are not told by MESSAGE who left
# (member_notices = no, as in the tests): SIPp's scenarios cannot take an
# unsolicited MESSAGE in the middle of a call.  $BENCH_CONF adds lines.
bench_tv() {
	local d=$1
	cat >"$d/tv.conf" <<CONF
listen = sip:127.0.0.1:$SIP
lineup = ${BENCH_LINEUP:-$SRC/etc/demo-lineup.m3u}
trust_loopback_from = yes
log_level = notice
rtp_port_min = 30000
rtp_port_max = 39999
metrics_listen = 127.0.0.1:9480
member_notices = no
${BENCH_CONF:-}
CONF
	"$TVSPACED" --config "$d/tv.conf" --db "$CONN" >"$d/tv.log" 2>&1 &
	TV_PID=$!
	for _ in $(seq 1 100); do
		if grep -q "ready:" "$d/tv.log" 2>/dev/null; then
			[ -z "${BENCH_PERF:-}" ] || {
				perf record -q --call-graph "$BENCH_PERF" \
					-F 499 -p "$TV_PID" \
					-o "$d/perf.data" 2>"$d/perf.log" &
				PERF_PID=$!
			}
			return 0
		fi
		kill -0 "$TV_PID" 2>/dev/null || {
			cat "$d/tv.log" >&2
			exit 1
		}
		sleep 0.1
	done
	echo "tvspaced did not start" >&2
	exit 1
}

bench_tv_stop() {
	if [ -n "$PERF_PID" ]; then
		kill -INT "$PERF_PID"
		wait "$PERF_PID" || true
		PERF_PID=
	fi
	kill "$TV_PID"
	wait "$TV_PID" || true
	TV_PID=
}

# metric NAME: one sample of tvspaced's /metrics.
metric() {
	python3 -c 'import sys, urllib.request
for line in urllib.request.urlopen("http://127.0.0.1:9480/metrics").read().decode().split("\n"):
    if line.startswith(sys.argv[1] + " "):
        print(line.split()[1])' "$1"
}

# cpu_ticks [PID]: the user and system time so far of tvspaced (or of PID,
# all its threads), in clock ticks.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/${1:-$TV_PID}/stat"
}

machine() {
	echo "($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
}
