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
#   bench/members.sh [SPACES MEMBERS]     MEMBER_RATE=800
. "$(dirname "$0")/lib.sh"
SPACES=${1:-1000}
MEMBERS=${2:-10000}
RATE=${MEMBER_RATE:-800}
HZ=$(getconf CLK_TCK)
# The members join at RATE and each stays until all have joined and 30 s
# more; the hosts stay until the members have left.
MEMBER_HOLD=$((MEMBERS * 1000 / RATE + 30000))
HOLD=$((SPACES / 200 * 1000 + MEMBER_HOLD + 30000))

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$TV_PID/status"; }

bench_db
# The hosts: users h1..hN with a premium service each (5000 seats).
psql "$CONN" -Xq <<SQL >/dev/null
INSERT INTO users (user_id) SELECT 'h' || i FROM generate_series(1, $SPACES) i;
INSERT INTO services (service_default_id, user_id, level, default_channel,
		      is_default)
SELECT 'svc-h' || i, 'h' || i, 3, 'news', true
  FROM generate_series(1, $SPACES) i;
SQL
d=$WORK/members
mkdir -p "$d"
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
for _ in $(seq 1 600); do
	[ "$(psql "$CONN" -XAtc "select count(*) from spaces where is_open")" = "$SPACES" ] && break
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
spaces=$(psql "$CONN" -XAtc "select count(*) from spaces where state = 'live'")
c0=$(cpu_ticks)
sleep 10
idle=$(awk -v d=$(($(cpu_ticks) - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", 100 * d / hz / 10 }')
wait "$GUESTS" && g=ok || g=failed
wait "$HOSTS" && h=ok || h=failed
bench_tv_stop

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
{
	echo SEQUENTIAL
	echo "space-1;"
} >"$d/kam-targets.csv"
sipp -sf test/sipp/bench_member.xml -inf "$d/kam-targets.csv" -m "$MEMBERS" \
	-r "$RATE" -l "$MEMBERS" -nostdin -i 127.0.0.1 -p 5185 \
	-d "$MEMBER_HOLD" -timeout 600s 127.0.0.1:5184 >"$d/kam.out" 2>&1 &
KCALLS=$!
BENCH_PIDS+=("$KCALLS")
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

printf '%-9s %8s %8s %14s %14s %16s %14s\n' server spaces held before_kib \
	held_kib kib_per_member idle_cpu_10s
printf '%-9s %8s %8s %14s %14s %16.2f %13s%%\n' tvspace "$spaces" "$held" \
	"$before" "$after" "$(python3 -c "print(($after - $before) / $held)")" \
	"$idle"
printf '%-9s %8s %8s %14s %14s %16.2f %14s\n' kam-shm - "$kdlg" \
	$((k_shm0 / 1024)) $((k_shm1 / 1024)) \
	"$(python3 -c "print(($k_shm1 - $k_shm0) / 1024 / max($kdlg, 1))")" -
printf '%-9s %8s %8s %14s %14s %16.2f %14s\n' kam-pss - "$kdlg" \
	"$k_pss0" "$k_pss1" \
	"$(python3 -c "print(($k_pss1 - $k_pss0) / max($kdlg, 1))")" -
echo "tvspace: RSS (VmRSS) growth over the members held (hosts and guests);" \
	"idle_cpu_10s: tvspaced's CPU over 10 s with all held, % of a core"
echo "kam-shm: Kamailio's shared memory in use (kamcmd core.shmmem);" \
	"kam-pss: the Pss of all its processes; both over its dialogs held"
echo "SIPp: hosts $h, members $g, Kamailio's calls $k; every member of" \
	"spaces and members rows: $held of $((SPACES + MEMBERS)) dialled;" \
	"load: $(cut -d' ' -f1-3 /proc/loadavg)"
machine
