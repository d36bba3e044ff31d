#!/usr/bin/env bash
# Conference NOTIFY bytes (RFC 4575): a space of MEMBERS members (default
# 1000, erin's open space, SIPp over UDP), each of them subscribed to it
# (bench/notify_subs.py over TCP: a full document of such a space does not
# fit in a datagram), then JOINERS more (default 100) joining at once
# (SIPp, all within 100 ms).  Counted at the subscribers: the NOTIFYs of
# the burst, and the bytes of those SIP messages as they arrived; before
# it, the subscriptions' first (full) documents.  Bytes do not depend on
# the machine's load; the time to quiet does.
#
# Each row is one tvspaced: this tree with notify_interval 0 (no
# coalescing), 100 (the default) and 5000 (RFC 4575's one NOTIFY per 5 s);
# and, with BEFORE_REF (a git commit, e.g. 18c994d: full documents, 100 ms)
# or BEFORE (a tvspaced binary), the tree before partial notifications.
#   bench/notify.sh [MEMBERS JOINERS]
#   BEFORE_REF=18c994d bench/notify.sh
. "$(dirname "$0")/lib.sh"
MEMBERS=${1:-1000}
JOINERS=${2:-100}
INTERVALS=${INTERVALS:-0 100 5000}
# SIPp and the subscribers, away from the tests' (5091-5097) and the other
# benchmarks' (5181-5182) ports.
P_HOST=5191
P_MEMBERS=5192
P_JOINERS=5193
P_SUBS=5194

# The tree before, built once in its own folder (git archive: no
# worktree of the repository is made).
if [ -n "${BEFORE_REF:-}" ] && [ -z "${BEFORE:-}" ]; then
	b=$SRC/$BUILD/before
	if [ ! -x "$b/build/tvspaced" ] ||
		[ "$(cat "$b/ref" 2>/dev/null)" != "$BEFORE_REF" ]; then
		rm -rf "$b"
		mkdir -p "$b/src"
		git -C "$SRC" archive "$BEFORE_REF" | tar -x -C "$b/src"
		cmake -S "$b/src" -B "$b/build" -DCMAKE_BUILD_TYPE=Release \
			-DTVSPACE_TESTS=OFF >/dev/null
		cmake --build "$b/build" -j"$(nproc)" --target tvspaced \
			>/dev/null
		echo "$BEFORE_REF" >"$b/ref"
	fi
	BEFORE=$b/build/tvspaced
fi

# run NAME BINARY INTERVAL: one row.
run() {
	local name=$1 bin=$2 interval=$3 d=$WORK/$1-$3 subs line i
	local t0 t1 quiet sub_n sub_bytes joined
	mkdir -p "$d"
	bench_db
	cat >"$d/tv.conf" <<CONF
listen = sip:127.0.0.1:$SIP
lineup = $SRC/etc/demo-lineup.m3u
trust_loopback_from = yes
log_level = notice
rtp_port_min = 30000
rtp_port_max = 39999
notify_interval = $interval
CONF
	"$bin" --config "$d/tv.conf" --db "$CONN" >"$d/tv.log" 2>&1 &
	TV_PID=$!
	for _ in $(seq 1 100); do
		grep -q "ready:" "$d/tv.log" && break
		sleep 0.1
	done
	grep -q "ready:" "$d/tv.log" || { cat "$d/tv.log" >&2; exit 1; }

	# erin's open space (premium: 5000 seats), her members g1..gN
	sipp -sf test/sipp/host_open.xml -m 1 -nostdin -i 127.0.0.1 \
		-p $P_HOST -key user erin -key target share -d 3600000 \
		-timeout 3700s 127.0.0.1:$SIP >"$d/host.out" 2>&1 &
	BENCH_PIDS+=($!)
	for _ in $(seq 1 100); do
		[ "$(psql "$CONN" -XAtc "select count(*) from spaces where is_open")" = 1 ] && break
		sleep 0.1
	done
	{
		echo SEQUENTIAL
		for i in $(seq 1 "$MEMBERS"); do echo "g$i;space-1;"; done
	} >"$d/members.csv"
	{
		echo SEQUENTIAL
		for i in $(seq 1 "$JOINERS"); do echo "j$i;space-1;"; done
	} >"$d/joiners.csv"
	sipp -sf test/sipp/bench_member_named.xml -inf "$d/members.csv" \
		-m "$MEMBERS" -r 200 -l "$MEMBERS" -nostdin -i 127.0.0.1 \
		-p $P_MEMBERS -d 3600000 -timeout 3700s \
		127.0.0.1:$SIP >"$d/members.out" 2>&1 &
	BENCH_PIDS+=($!)
	for _ in $(seq 1 600); do
		[ "$(psql "$CONN" -XAtc "select count(*) from members where left_at is null")" -ge $((MEMBERS + 1)) ] && break
		sleep 0.1
	done

	# every member subscribes: the first NOTIFYs are full documents
	coproc SUBS { python3 bench/notify_subs.py $SIP $P_SUBS space-1 g \
		"$MEMBERS" 2>"$d/subs.err"; }
	BENCH_PIDS+=($SUBS_PID)
	echo subscribe >&"${SUBS[1]}"
	read -r _ subs <&"${SUBS[0]}"
	echo "mark subscribed" >&"${SUBS[1]}"
	read -r line <&"${SUBS[0]}"
	echo "$line" >"$d/subscribed"
	sub_n=$(sed 's/.* full=\([0-9]*\).*/\1/' <<<"$line")
	sub_bytes=$(sed 's/.* full_bytes=\([0-9]*\).*/\1/' <<<"$line")

	# the burst: JOINERS within 100 ms
	t0=$(date +%s.%N)
	sipp -sf test/sipp/bench_member_named.xml -inf "$d/joiners.csv" \
		-m "$JOINERS" -r "$JOINERS" -rp 100 -l "$JOINERS" -nostdin \
		-i 127.0.0.1 -p $P_JOINERS -d 3600000 -timeout 3700s \
		127.0.0.1:$SIP >"$d/joiners.out" 2>&1 &
	BENCH_PIDS+=($!)
	for _ in $(seq 1 1200); do
		joined=$(psql "$CONN" -XAtc "select count(*) from members where user_id like 'j%' and left_at is null")
		[ "$joined" -ge "$JOINERS" ] && break
		sleep 0.1
	done
	# then until no NOTIFY came for two intervals and 2 s
	quiet=$((2 * interval + 2000))
	echo "quiet $quiet" >&"${SUBS[1]}"
	read -r _ <&"${SUBS[0]}"
	t1=$(date +%s.%N)
	echo "mark burst" >&"${SUBS[1]}"
	read -r line <&"${SUBS[0]}"
	echo "$line" >"$d/burst"
	echo quit >&"${SUBS[1]}"
	wait "$SUBS_PID" 2>/dev/null || true
	bench_tv_stop
	for p in "${BENCH_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	BENCH_PIDS=()

	python3 - "$name" "$interval" "$subs" "$sub_n" "$sub_bytes" "$joined" \
		"$line" "$t0" "$t1" "$quiet" <<'PY' | tee -a "$WORK/results"
import sys
name, interval, subs, sub_n, sub_bytes, joined, line, t0, t1, quiet = sys.argv[1:]
f = dict(kv.split("=") for kv in line.split()[1:])
n, b = int(f["notifies"]), int(f["bytes"])
subs = int(subs)
print("%-8s %8s %5s %7s %11.0f %6s %9d %8d %7d %12d %11.1f %8.0f %10.1f" % (
    name, interval, subs, joined, int(sub_bytes) / max(1, int(sub_n)),
    f["gaps"], n, int(f["full"]), int(f["partial"]), b,
    b / max(1, subs) / 1024, b / max(1, n),
    float(t1) - float(t0) - int(quiet) / 1000))
PY
}

printf '%-8s %8s %5s %7s %11s %6s %9s %8s %7s %12s %11s %8s %10s\n' \
	tree interval subs joined first_bytes gaps notifies full partial \
	burst_bytes KiB_per_sub per_msg to_quiet_s | tee "$WORK/results"
if [ -n "${BEFORE:-}" ]; then
	run before "$BEFORE" 100
fi
for iv in $INTERVALS; do
	run after "$SRC/$BUILD/tvspaced" "$iv"
done
echo "a space of $MEMBERS members, each subscribed; $JOINERS join within" \
	"100 ms.  first_bytes: a subscription's first NOTIFY (full), mean size;" \
	"notifies, burst_bytes: every NOTIFY of the burst at all subscribers" \
	"(whole SIP messages); to_quiet_s: first join to the last NOTIFY;" \
	"gaps: partial NOTIFYs whose version was not the last plus one"
machine
