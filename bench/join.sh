#!/usr/bin/env bash
# Join rate: joiners dial an open space (INVITE, 200 with SDP, ACK, a
# second watching, BYE) at rising rates, each join and each leave committed
# to PostgreSQL, and beside tvspaced, in the same run with the same SIPp
# scenario and rates, its peers: a SIPp UAS (bench/uas.xml, the harness's
# own ceiling: SIPp against SIPp, nothing behind the answers) and Kamailio
# answering statefully (bench/kamailio.cfg: tm, an SDP answer and an
# htable entry per call), configured as its operators run it for
# throughput: the fast allocator for both memory pools (-x fm -X fm), one
# UDP worker per core (-n), a 4 MB socket receive buffer (maxbuffer).
# Every SIPp, on either side, has a 4 MB socket buffer (-buff_size).
# And the floor of tvspaced's own stack: bench/nua_uas.c, a sofia-sip nua
# user agent set up as tvspaced sets up its own, answering every INVITE at
# once with SDP and nothing behind it (no database, no space): its CPU per
# call is what the stack costs whatever tvspace does.
#
# Each target's rate is raised until it fails: a target that had a failed
# call at one rate is not offered the higher ones.  For each target and
# rate: calls that succeeded and failed, the rate reached, the time from
# INVITE to 200 (p50, p99), the CPU time per call of the server (from
# /proc/PID/stat, all threads; Kamailio: all its processes), and for
# tvspace the joins and leaves committed in that step.  A rate is clean
# when no call failed, p99 is under 50 ms and (tvspace) every join and
# leave of it was committed; the summary gives each target's highest clean
# rate and tvspace's over each peer's.
#   bench/join.sh [RATE...]   default: 400 800 1200 1600 2000 2400 3200 4000 4800 6400
# After the table: tvspace's transactions committed in each step (from
# pg_stat_database, the script's own few counted in), over the calls: how
# many statements each commit held, in effect.
#   JOIN_S=5 (seconds a step); JOIN_TARGETS="tvspace kamailio" (default:
#   all four) for a profile of one of them; JOIN_ALL=1: every rate to
#   every target, clean or not
. "$(dirname "$0")/lib.sh"
if ! command -v kamailio >/dev/null; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq --no-install-recommends kamailio >/dev/null
fi
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(400 800 1200 1600 2000 2400 3200 4000 4800 6400)
SECONDS_PER_STEP=${JOIN_S:-5}
UAS_PORT=5183
KAM_PORT=5184
NUA_PORT=5185
BUF=4194304
HZ=$(getconf CLK_TCK)

# tree_ticks PID: CPU ticks so far of PID and every process below it.
tree_ticks() {
	local t=0 p
	for p in $(tree_pids "$1"); do
		t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
tree_pids() {
	local p
	echo "$1"
	for p in $(ps -o pid= --ppid "$1"); do
		tree_pids "$p"
	done
}
q() { psql "$CONN" -XAtc "$1"; }
# xacts: transactions committed so far in the database (each group commit
# is one), less the script's own queries.
xacts() {
	q "select xact_commit from pg_stat_database where datname = current_database()"
}

# step NAME PORT RATE SERVER_PID: one rate against one target; prints a
# result line.
step() {
	local name=$1 port=$2 rate=$3 pid=$4 d=$WORK/$1-$3 n rc=0 c0 c1
	local j0=- l0=- committed=- p0=0 p1=0 pg s0 g0 shed=-
	pg=$(head -1 "$PGDIR/data/postmaster.pid")
	mkdir -p "$d"
	n=$((rate * SECONDS_PER_STEP))
	if [ "$name" = tvspace ]; then
		x0=$(xacts)
		j0=$(q "select count(*) from members where user_id like 'g%'")
		l0=$(q "select count(*) from members where user_id like 'g%' and left_at is not null")
		s0=$(metric tvspace_shed_total)
		g0=$(metric tvspace_admit_gated_total)
	fi
	c0=$(tree_ticks "$pid")
	[ "$name" != tvspace ] || p0=$(tree_ticks "$pg")
	(cd "$d" && sipp -sf "$SRC/test/sipp/bench_join.xml" -m "$n" -r "$rate" \
		-l $((rate * 4)) -nostdin -i 127.0.0.1 -p 5182 \
		-buff_size $BUF -key target space-1 -d 1000 -timeout 30s \
		-trace_logs -trace_stat -fd 1 \
		"127.0.0.1:$port" >sipp.out 2>&1) || rc=$?
	c1=$(tree_ticks "$pid")
	[ "$name" != tvspace ] || p1=$(tree_ticks "$pg")
	if [ "$name" = tvspace ]; then
		# the BYE's 200 follows the leave's commit: all are in
		committed="$(($(q "select count(*) from members where user_id like 'g%'") - j0))/$(($(q "select count(*) from members where user_id like 'g%' and left_at is not null") - l0))"
		# the counters reach the view within a second
		sleep 1
		echo "$rate $(($(xacts) - x0)) $n" >>"$WORK/xacts"
		shed=$(($(metric tvspace_shed_total) - s0))/$(($(metric tvspace_admit_gated_total) - g0))
	fi
	python3 "$SRC/bench/join_stats.py" "$d" "$name" "$rate" "$rc" \
		"$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')" \
		"$committed" \
		"$(awk -v t=$((p1 - p0)) -v hz="$HZ" -v n="$n" -v tv="$name" 'BEGIN { if (tv == "tvspace") printf "%.3f", t * 1000 / hz / n; else print "-" }')" \
		"$shed"
}

# tvspace: erin's open space; its service level holds every joiner of the
# highest rate (bench_db: a full space would refuse joins, not fail them).
bench_db
mkdir -p "$WORK/tv"
bench_tv "$WORK/tv"
sipp -sf test/sipp/host_open.xml -m 1 -nostdin -i 127.0.0.1 -p 5181 \
	-key user erin -key target share -d 3600000 -timeout 3700s \
	127.0.0.1:$SIP >"$WORK/tv/host.out" 2>&1 &
BENCH_PIDS+=($!)
for _ in $(seq 1 50); do
	[ "$(q "select count(*) from spaces where is_open")" = 1 ] && break
	sleep 0.1
done
# The peers.
sipp -sf bench/uas.xml -nostdin -i 127.0.0.1 -p $UAS_PORT -buff_size $BUF \
	>"$WORK/uas.out" 2>&1 &
UAS_PID=$!
BENCH_PIDS+=($UAS_PID)
kamailio -f bench/kamailio.cfg -L "$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")" \
	-D -E -n "$(nproc)" -x fm -X fm -m 256 -M 16 \
	-P "$WORK/kamailio.pid" >"$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
BENCH_PIDS+=($KAM_PID)
cc -O2 -o "$WORK/nua_uas" bench/nua_uas.c \
	$(pkg-config --cflags --libs sofia-sip-ua)
"$WORK/nua_uas" $NUA_PORT >"$WORK/nua_uas.out" 2>&1 &
NUA_PID=$!
BENCH_PIDS+=($NUA_PID)
sleep 1

printf '%-9s %6s %8s %6s %9s %8s %8s %8s %11s %9s %9s\n' target rate ok failed \
	reached/s p50_ms p99_ms cpu_ms committed pg_cpu_ms shed/gauge
declare -A FAILED
for rate in "${RATES[@]}"; do
	for t in "tvspace $SIP $TV_PID" "sipp-uas $UAS_PORT $UAS_PID" \
		"kamailio $KAM_PORT $KAM_PID" "nua-uas $NUA_PORT $NUA_PID"; do
		set -- $t
		[[ " ${JOIN_TARGETS:-tvspace sipp-uas kamailio nua-uas} " == *" $1 "* ]] ||
			continue
		[ -z "${FAILED[$1]:-}" ] || [ -n "${JOIN_ALL:-}" ] || continue
		line=$(step "$1" "$2" "$rate" "$3")
		echo "$line"
		# not clean (a failed call, p99 of 50 ms or more, a commit
		# missing): the higher rates are not offered to it
		python3 bench/join_stats.py --clean "$line" || FAILED[$1]=1
	done
done | tee "$WORK/results"
python3 bench/join_stats.py --summary "$WORK/results"
echo "cpu_ms: the server's CPU time (/proc, every thread and process) over" \
	"the step, over the calls offered; tvspaced's includes its dialog" \
	"tags stored and leaves committed; pg_cpu_ms: its PostgreSQL's" \
	"(every backend and helper), the same way; shed/gauge: of tvspace's" \
	"failed calls, the new dialogs it refused with 503 for overload" \
	"(tvspace_shed_total), and of those, the ones the database's expected" \
	"wait refused (tvspace_admit_gated_total)"
echo "kamailio: $(kamailio -v | head -1 | cut -d' ' -f3), -n $(nproc) -x fm -X fm, maxbuffer 4 MB (net.core.rmem_max $(cat /proc/sys/net/core/rmem_max))"
[ ! -s "$WORK/xacts" ] || awk '{ printf "tvspace %s/s: %d transactions committed, %.3f a call\n", $1, $2, $2 / $3 }' "$WORK/xacts"
echo "joins committed: $(q "select count(*) from members where user_id like 'g%'"), left: $(q "select count(*) from members where user_id like 'g%' and left_at is not null")"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
machine
