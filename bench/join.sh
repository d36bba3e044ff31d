#!/usr/bin/env bash
# Join rate: joiners dial an open space (INVITE, 200, ACK, a second
# watching, BYE) at rising rates, each join and each leave committed to
# PostgreSQL, and beside tvspaced, in the same run with the same SIPp
# scenario and rates, its peers: a SIPp UAS (the harness's ceiling on this
# machine: nothing behind the answers) and Kamailio answering statefully
# (tm, no routing, no database).  For each target and rate: calls that
# succeeded and failed, the rate reached, and the time from INVITE to 200
# (p50, p99); and tvspaced's CPU time per call at each rate.
#   bench/join.sh [RATE...]            default: 100 400 800 1200 1600 a second
. "$(dirname "$0")/lib.sh"
if ! command -v kamailio >/dev/null; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq --no-install-recommends kamailio >/dev/null
fi
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(100 400 800 1200 1600)
SECONDS_PER_STEP=5
UAS_PORT=5183
KAM_PORT=5184

# step NAME PORT RATE: one rate against one target; prints a result line.
step() {
	local name=$1 port=$2 rate=$3 d=$WORK/$1-$3 n rc=0 c0
	mkdir -p "$d"
	n=$((rate * SECONDS_PER_STEP))
	c0=$(cpu_ticks)
	(cd "$d" && sipp -sf "$SRC/test/sipp/bench_join.xml" -m "$n" -r "$rate" \
		-l $((rate * 4)) -nostdin -i 127.0.0.1 -p 5182 \
		-key target space-1 -d 1000 -timeout 60s \
		-trace_logs -trace_stat -fd 1 \
		"127.0.0.1:$port" >sipp.out 2>&1) || rc=$?
	python3 "$SRC/bench/join_stats.py" "$d" "$name" "$rate" "$rc"
	[ "$name" != tvspace ] ||
		echo "$rate $(($(cpu_ticks) - c0)) $n" >>"$WORK/cpu"
}

# tvspace: erin's open space; its service level holds 5000.
bench_db
mkdir -p "$WORK/tv"
bench_tv "$WORK/tv"
sipp -sf test/sipp/host_open.xml -m 1 -nostdin -i 127.0.0.1 -p 5181 \
	-key user erin -key target share -d 600000 -timeout 700s \
	127.0.0.1:$SIP >"$WORK/tv/host.out" 2>&1 &
BENCH_PIDS+=($!)
for _ in $(seq 1 50); do
	[ "$(psql "$CONN" -XAtc "select count(*) from spaces where is_open")" = 1 ] && break
	sleep 0.1
done
# The peers.
sipp -sf bench/uas.xml -nostdin -i 127.0.0.1 -p $UAS_PORT \
	>"$WORK/uas.out" 2>&1 &
BENCH_PIDS+=($!)
kamailio -f bench/kamailio.cfg -L "$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")" \
	-D -E -n 2 -P "$WORK/kamailio.pid" >"$WORK/kamailio.log" 2>&1 &
BENCH_PIDS+=($!)
sleep 1

printf '%-9s %6s %8s %6s %9s %8s %8s\n' target rate ok failed reached/s p50_ms p99_ms
for rate in "${RATES[@]}"; do
	step tvspace $SIP "$rate"
	step sipp-uas $UAS_PORT "$rate"
	step kamailio $KAM_PORT "$rate"
done | tee "$WORK/results"
python3 bench/join_stats.py --summary "$WORK/results"
# tvspaced's CPU (/proc) over each of its steps, over the calls offered:
# a join, its dialog's tag stored, and its leave.
awk -v hz="$(getconf CLK_TCK)" '{ printf "tvspaced CPU at %d/s: %.3f ms a call\n", $1, $2 * 1000 / hz / $3 }' "$WORK/cpu"
echo "joins committed: $(psql "$CONN" -XAtc "select count(*) from members where user_id like 'g%'"), left: $(psql "$CONN" -XAtc "select count(*) from members where user_id like 'g%' and left_at is not null")"
machine
