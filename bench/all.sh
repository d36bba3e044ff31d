#!/usr/bin/env bash
# Every benchmark of tvspace, one after the other, each printing its table,
# unattended and bounded: each script is stopped after BENCH_LIMIT seconds
# (default 1500) and the next one runs; the whole takes about 50 minutes on
# 2 cores (docs/performance.md says what each measures).
#   bench/all.sh                  (as root: each runs in a network namespace
#                                  of its own, tvbench, made and deleted here;
#                                  BENCH_NS=NAME: another name, where two
#                                  trees run their benchmarks at once)
#   bench/all.sh join overload    (only these)
# The figures of a shared machine move with its load: the load average is
# printed before and after each.
set -uo pipefail
cd "$(dirname "$0")"
LIMIT=${BENCH_LIMIT:-1500}
NS=
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
	NS=${BENCH_NS:-tvbench}
	ip netns add "$NS" 2>/dev/null || true
	ip netns exec "$NS" ip link set lo up
	trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
fi
run() { # TITLE SCRIPT ARGS...
	local title=$1 rc=0
	shift
	echo "== $title (load $(cut -d' ' -f1-3 /proc/loadavg))"
	local t0=$SECONDS
	if [ -n "$NS" ]; then
		timeout -k 10 "$LIMIT" ip netns exec "$NS" bash "$@" || rc=$?
	else
		timeout -k 10 "$LIMIT" bash "$@" || rc=$?
	fi
	local why=
	[ "$rc" != 124 ] || why=": stopped after $LIMIT s"
	[ "$rc" = 0 ] || echo "($1 ended with status $rc$why)"
	echo "($(($SECONDS - t0)) s; load $(cut -d' ' -f1-3 /proc/loadavg))"
}
ALL=("$@")
pick() { [ ${#ALL[@]} -eq 0 ] || [[ " ${ALL[*]} " == *" $1 "* ]]; }

pick join && run "join rate beside a SIPp UAS and Kamailio" join.sh
pick overload && run "overload: 1x, 2x and 3x the clean join rate" overload.sh
pick switch && run "switch time (10 to 10,000 members)" switch.sh 10 100 1000 10000
pick members && run "members held (100,000 on one node) beside Kamailio's dialogs" \
	members.sh 1000 100000
pick relay && run "relay throughput beside rtpengine" relay.sh
pick takeover && run "takeover of 1,000 spaces (three nodes behind Kamailio, one killed)" \
	takeover.sh 1000 2 3
pick takeover && run "takeover of 10,000 spaces" takeover.sh 10000 1 3
pick subscribers && run "subscribers provisioned (10,000 to 1,000,000)" subscribers.sh
pick notify && run "conference NOTIFY bytes (1,000 subscribers, 100 joins)" notify.sh
exit 0
