#!/usr/bin/env bash
# Members held: SPACES hosts (default 1000) each start a space and open it,
# then MEMBERS guests (default 10000) join them (multicast), MEMBERS/SPACES
# to a space, at MEMBER_RATE a second (default 800), every join committed
# to PostgreSQL; all stay while tvspaced's resident memory is read from
# /proc, and the growth is divided by the members held (hosts and guests).
# While they are held, tvspaced's CPU over 10 s is read too: with every
# space live, that is the cost of their time-driven work (each space's
# deadlines, the daily limit's accounting) and of the idle loop.
#
# Beside it, in the same run, Kamailio (bench/kamailio-dialog.cfg: the
# dialog module holding a dialog per call, -x fm -X fm, one worker per
# core, 1 GB of shared memory) holds as many calls from the same SIPp
# scenario, and its memory per dialog is read the same way: the growth of
# its shared memory in use (kamcmd core.shmmem, where the dialogs live) and
# of the proportional set size (Pss) of all its processes, over the
# dialogs held (kamcmd dlg.stats_active).
#
# And the floor of tvspaced's own stack: bench/nua_uas.c, sofia-sip's nua
# set up as tvspaced sets up its own, answering the same SIPp members with
# nothing behind the dialogs, its RSS growth over the dialogs it holds: what
# a member costs whatever tvspace keeps of it.
#
# MEMBERS_HEAP=1: where the bytes are instead.  tvspaced runs under
# heaptrack (Debian's; bench/heaptrack_tv.sh), and its heap at its peak
# (all held) is put by bench/heap_owners.py under the owner of each
# allocation (tvspace's call, offer, member...; sofia-sip's handle, leg,
# transactions...), over the members held.  Its RSS then includes
# heaptrack's own, and Kamailio is not run.  MEMBERS_HEAP_WAIT=S stops
# tvspaced S seconds later (default 0) and also breaks down what it had
# not freed when it exited: sofia-sip's stack is left as it was by a stop
# that keeps the dialogs (tvspace's own is freed), so that is the stack's
# dialogs and whatever else it still held S seconds on.
# MEMBERS_SUBSCRIBERS=N provisions N more subscribers (users and services
# that never call) before tvspaced starts, as an operator's database holds
# them: the CPU with every space live is then the time-driven work of
# SPACES spaces beside N subscribers (issue: the daily limit's cost).
# MEMBERS_FEEDS=yes runs tvspaced on external feeds only (nothing
# generated, bench/feeds-lineup.m3u) with Demo News on the group the SIPp
# hosts offer (232.10.0.1): offered another group, each host would be
# re-INVITEd to the feed's (RFC 3264 §6.2), which its scenario does not
# take, and lost 32 s later.  Run it in a network namespace of its own
# when a demo sends to that group on this host.
#   bench/members.sh [SPACES MEMBERS]     MEMBER_RATE=800 MEMBERS_HEAP=
#                                         MEMBERS_KAMAILIO=yes MEMBERS_NUA=yes
#                                         MEMBERS_SUBSCRIBERS=0 MEMBERS_CPU_WAIT=0
#                                         MEMBERS_FEEDS=no
. "$(dirname "$0")/lib.sh"
SPACES=${1:-1000}
MEMBERS=${2:-10000}
RATE=${MEMBER_RATE:-800}
HZ=$(getconf CLK_TCK)
# The members join at RATE and each stays until all have joined and 30 s
# more; the hosts stay until the members have left.
MEMBER_HOLD=$((MEMBERS * 1000 / RATE + 30000))
HOLD=$((SPACES / 200 * 1000 + MEMBER_HOLD + 30000))

HEAP=${MEMBERS_HEAP:-}
# MEMBERS_KAMAILIO=no: tvspaced alone (another build's figures beside
# a run that measured Kamailio).
KAM=${MEMBERS_KAMAILIO:-yes}
# MEMBERS_NUA=no: without the stack's own row (below).
NUA=${MEMBERS_NUA:-yes}
if [ -n "$HEAP" ]; then
	command -v heaptrack >/dev/null || {
		echo "MEMBERS_HEAP needs heaptrack (apt-get install heaptrack)" >&2
		exit 1
	}
	export HEAP_TV=$TVSPACED HEAP_OUT=$WORK/heap
	TVSPACED=$SRC/bench/heaptrack_tv.sh
fi
# tvspaced's own process (under heaptrack, a child of its script).
tv_pid() {
	if [ -n "$HEAP" ]; then
		pgrep -n -f "^$HEAP_TV --config $d/tv.conf"
	else
		echo "$TV_PID"
	fi
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$(tv_pid)/status"; }

bench_db
# The hosts: users h1..hN with a premium service each (5000 seats).
psql "$CONN" -Xq <<SQL >/dev/null
INSERT INTO users (user_id) SELECT 'h' || i FROM generate_series(1, $SPACES) i;
INSERT INTO services (service_default_id, user_id, level, default_channel,
		      is_default)
SELECT 'svc-h' || i, 'h' || i, 3, 'news', true
  FROM generate_series(1, $SPACES) i;
SQL
SUBS=${MEMBERS_SUBSCRIBERS:-0}
if [ "$SUBS" -gt 0 ]; then
	psql "$CONN" -Xq <<SQL >/dev/null
INSERT INTO users (user_id) SELECT 's' || i FROM generate_series(1, $SUBS) i;
INSERT INTO services (service_default_id, user_id, level, default_channel,
		      is_default)
SELECT 'svc-s' || i, 's' || i, 1 + i % 3, 'news', true
  FROM generate_series(1, $SUBS) i;
ANALYZE users;
ANALYZE services;
SQL
	echo "provisioned $SUBS more subscribers"
fi
d=$WORK/members
mkdir -p "$d"
if [ "${MEMBERS_FEEDS:-no}" = yes ]; then
	sed 's/232\.10\.9\.1:/232.10.0.1:/' bench/feeds-lineup.m3u >"$d/lineup.m3u"
	BENCH_LINEUP=$d/lineup.m3u
fi
bench_tv "$d"
sleep 1
before=$(rss_kib)
{
	echo SEQUENTIAL
	for i in $(seq 1 "$MEMBERS"); do
		echo "space-$(((i - 1) % SPACES + 1));"
	done
} >"$d/targets.csv"
sipp -sf test/sipp/bench_host_open.xml -m "$SPACES" -r 200 -l "$SPACES" \
	-nostdin -i 127.0.0.1 -p 5181 -key target share -d "$HOLD" \
	-timeout 600s 127.0.0.1:$SIP >"$d/hosts.out" 2>&1 &
HOSTS=$!
BENCH_PIDS+=("$HOSTS")
# Until every space is open; a host refused while tvspaced sheds load
# (503) is not tried again, so once all have dialled the wait also ends
# when the count has not moved for 3 s (the hosts hold for the members'
# time only: waiting on for one refused would see them leave).
opened=0
last=-1
since=$SECONDS
dialled=$((SECONDS + SPACES / 200 + 1))
for _ in $(seq 1 600); do
	opened=$(psql "$CONN" -XAtc "select count(*) from spaces where is_open")
	[ "$opened" = "$SPACES" ] && break
	[ "$opened" = "$last" ] || since=$SECONDS
	last=$opened
	[ $SECONDS -lt $dialled ] || [ $((SECONDS - since)) -lt 3 ] || break
	sleep 0.1
done
sipp -sf test/sipp/bench_member.xml -inf "$d/targets.csv" -m "$MEMBERS" \
	-r "$RATE" -l "$MEMBERS" -nostdin -i 127.0.0.1 -p 5182 \
	-d "$MEMBER_HOLD" -timeout 600s \
	127.0.0.1:$SIP >"$d/members.out" 2>&1 &
GUESTS=$!
BENCH_PIDS+=("$GUESTS")
# Until every member is in; a join refused while tvspaced sheds load (503)
# is not tried again, so once all have been dialled (MEMBERS / RATE
# seconds) the wait also ends when the count has not moved for 3 s: the
# members who did join are measured, before the first of them leaves.
held=0
last=-1
since=$SECONDS
dialled=$((SECONDS + MEMBERS / RATE))
for _ in $(seq 1 $((MEMBERS / RATE * 10 + 600))); do
	held=$(psql "$CONN" -XAtc "select count(*) from members where left_at is null")
	[ "$held" -ge $((SPACES + MEMBERS)) ] && break
	[ "$held" = "$last" ] || since=$SECONDS
	last=$held
	[ $SECONDS -lt $dialled ] || [ $((SECONDS - since)) -lt 3 ] || break
	sleep 0.1
done
sleep 2
after=$(rss_kib)
if [ -n "$HEAP" ]; then
	# Stopped while all are held, before any leaves: the heap's peak is
	# then the members held and what their joins left in flight (a mass
	# leave would peak higher, with a transaction a BYE for 32 s).
	sleep "${MEMBERS_HEAP_WAIT:-0}"
	bench_tv_stop
	echo "tvspaced's heap at its peak, $held members held (load:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)):"
	heaptrack_print -f "$WORK/heap.zst" -p 0 -a 0 -l 0 -T 0 \
		--flamegraph-cost-type peak -F "$WORK/heap-stacks.txt" >/dev/null
	python3 bench/heap_owners.py "$WORK/heap-stacks.txt" "$held"
	if [ "${MEMBERS_HEAP_WAIT:-0}" != 0 ]; then
		echo "not freed at exit, ${MEMBERS_HEAP_WAIT} s after all were held:"
		heaptrack_print -f "$WORK/heap.zst" -p 0 -a 0 -l 0 -T 0 \
			--flamegraph-cost-type leaked \
			-F "$WORK/heap-exit.txt" >/dev/null
		python3 bench/heap_owners.py "$WORK/heap-exit.txt" "$held"
	fi
	machine
	exit 0
fi
spaces=$(psql "$CONN" -XAtc "select count(*) from spaces where state = 'live'")
# MEMBERS_CPU_WAIT=S: the CPU is read S seconds later, once the joins'
# transactions are over, so that it is the held spaces' own (the first
# members leave MEMBERS / RATE + 30 s after they came).
sleep "${MEMBERS_CPU_WAIT:-0}"
c0=$(cpu_ticks "$(tv_pid)")
sleep 10
idle=$(awk -v d=$(($(cpu_ticks "$(tv_pid)") - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", 100 * d / hz / 10 }')
wait "$GUESTS" && g=ok || g=failed
wait "$HOSTS" && h=ok || h=failed
bench_tv_stop

# The peers' members all dial one URI.
{
	echo SEQUENTIAL
	echo "space-1;"
} >"$d/peer-targets.csv"
# peer_members LOCAL_PORT PEER_PORT OUT: the same members dial a peer, in
# the background (its PID in PEER_CALLS).
peer_members() {
	sipp -sf test/sipp/bench_member.xml -inf "$d/peer-targets.csv" -m "$MEMBERS" \
		-r "$RATE" -l "$MEMBERS" -nostdin -i 127.0.0.1 -p "$1" \
		-d "$MEMBER_HOLD" -timeout 600s "127.0.0.1:$2" >"$3" 2>&1 &
	PEER_CALLS=$!
	BENCH_PIDS+=("$PEER_CALLS")
}
k="not run"
if [ "$KAM" = yes ]; then
	# Kamailio holding as many dialogs.
	kam_shm() { kamcmd -s "unix:$KCTL" core.shmmem | awk '$1 == "used:" { print $2 }'; }
	kam_pss() { # kB, all its processes
		local t=0 p
		for p in $KPID $(ps -o pid= --ppid "$KPID"); do
			t=$((t + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
		done
		echo "$t"
	}
	kam_dlgs() { kamcmd -s "unix:$KCTL" dlg.stats_active | awk '$1 == "ongoing:" { print $2 }'; }
	KCTL=/tmp/tvbench-kamailio.ctl
	kamailio -f bench/kamailio-dialog.cfg -L "$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")" \
		-D -E -n "$(nproc)" -x fm -X fm -m 1024 -M 16 \
		-P "$WORK/kamailio.pid" >"$WORK/kamailio.log" 2>&1 &
	KPID=$!
	BENCH_PIDS+=("$KPID")
	sleep 2
	k_shm0=$(kam_shm)
	k_pss0=$(kam_pss)
	peer_members 5185 5184 "$d/kam.out"
	KCALLS=$PEER_CALLS
	kdlg=0
	for _ in $(seq 1 $((MEMBERS / RATE * 10 + 600))); do
		kdlg=$(kam_dlgs)
		[ "${kdlg:-0}" -ge "$MEMBERS" ] && break
		sleep 0.1
	done
	sleep 2
	k_shm1=$(kam_shm)
	k_pss1=$(kam_pss)
	kdlg=$(kam_dlgs)
	wait "$KCALLS" && k=ok || k=failed
fi

n="not run"
if [ "$NUA" = yes ]; then
	# The stack alone holding as many dialogs (bench/nua_uas.c).
	cc -O2 -o "$WORK/nua_uas" bench/nua_uas.c \
		$(pkg-config --cflags --libs sofia-sip-ua)
	"$WORK/nua_uas" 5187 >"$WORK/nua_uas.out" 2>&1 &
	NPID=$!
	BENCH_PIDS+=("$NPID")
	sleep 1
	nua_rss() { awk '/^VmRSS/ {print $2}' "/proc/$NPID/status"; }
	nua_held() { awk '$1 == "held" { n = $2 } END { print n + 0 }' "$WORK/nua_uas.out"; }
	n_rss0=$(nua_rss)
	peer_members 5188 5187 "$d/nua.out"
	NCALLS=$PEER_CALLS
	for _ in $(seq 1 $((MEMBERS / RATE * 10 + 600))); do
		[ "$(nua_held)" -ge "$MEMBERS" ] && break
		sleep 0.1
	done
	sleep 2
	n_rss1=$(nua_rss)
	ndlg=$(nua_held)
	wait "$NCALLS" && n=ok || n=failed
fi

printf '%-9s %8s %8s %14s %14s %16s %14s\n' server spaces held before_kib \
	held_kib kib_per_member idle_cpu_10s
printf '%-9s %8s %8s %14s %14s %16.2f %13s%%\n' tvspace "$spaces" "$held" \
	"$before" "$after" "$(python3 -c "print(($after - $before) / $held)")" \
	"$idle"
[ "$KAM" != yes ] || {
	printf '%-9s %8s %8s %14s %14s %16.2f %14s\n' kam-shm - "$kdlg" \
		$((k_shm0 / 1024)) $((k_shm1 / 1024)) \
		"$(python3 -c "print(($k_shm1 - $k_shm0) / 1024 / max($kdlg, 1))")" -
	printf '%-9s %8s %8s %14s %14s %16.2f %14s\n' kam-pss - "$kdlg" \
		"$k_pss0" "$k_pss1" \
		"$(python3 -c "print(($k_pss1 - $k_pss0) / max($kdlg, 1))")" -
}
[ "$NUA" != yes ] || printf '%-9s %8s %8s %14s %14s %16.2f %14s\n' nua-uas - \
	"$ndlg" "$n_rss0" "$n_rss1" \
	"$(python3 -c "print(($n_rss1 - $n_rss0) / max($ndlg, 1))")" -
echo "tvspace: RSS (VmRSS) growth over the members held (hosts and guests);" \
	"idle_cpu_10s: tvspaced's CPU over 10 s with all held, % of a core"
echo "kam-shm: Kamailio's shared memory in use (kamcmd core.shmmem);" \
	"kam-pss: the Pss of all its processes; both over its dialogs held"
echo "nua-uas: the SIP stack alone (bench/nua_uas.c, sofia-sip's nua set up" \
	"as tvspaced's), its RSS growth over the dialogs it held"
echo "SIPp: hosts $h, members $g, Kamailio's calls $k, nua-uas's $n; every member of" \
	"spaces and members rows: $held of $((SPACES + MEMBERS)) dialled;" \
	"load: $(cut -d' ' -f1-3 /proc/loadavg)"
machine
