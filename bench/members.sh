#!/usr/bin/env bash
# Members held: SPACES hosts (default 1000) each start a space and open it,
# then MEMBERS guests (default 10000) join them, MEMBERS/SPACES to a space,
# every join committed to PostgreSQL; all stay while tvspaced's resident
# memory is read from /proc, and the growth is divided by the members held.
#   bench/members.sh [SPACES MEMBERS]
. "$(dirname "$0")/lib.sh"
SPACES=${1:-1000}
MEMBERS=${2:-10000}
# The members join at 500/s and each stays until all have joined and 15 s
# more; the hosts stay until the members have left.
MEMBER_HOLD=$((MEMBERS / 500 * 1000 + 15000))
HOLD=$((SPACES / 200 * 1000 + MEMBERS / 500 * 1000 + MEMBER_HOLD + 15000))

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
	-r 500 -l "$MEMBERS" -nostdin -i 127.0.0.1 -p 5182 \
	-d "$MEMBER_HOLD" -timeout 600s \
	127.0.0.1:$SIP >"$d/members.out" 2>&1 &
GUESTS=$!
BENCH_PIDS+=("$GUESTS")
held=0
for _ in $(seq 1 600); do
	held=$(psql "$CONN" -XAtc "select count(*) from members where left_at is null")
	[ "$held" -ge $((SPACES + MEMBERS)) ] && break
	sleep 0.1
done
sleep 2
after=$(rss_kib)
spaces=$(psql "$CONN" -XAtc "select count(*) from spaces where state = 'live'")
wait "$GUESTS" && g=ok || g=failed
wait "$HOSTS" && h=ok || h=failed
printf '%-8s %8s %14s %14s %16s\n' spaces members rss_before_kib rss_held_kib kib_per_member
printf '%-8s %8s %14s %14s %16.2f\n' "$spaces" "$held" "$before" "$after" \
	"$(python3 -c "print(($after - $before) / $held)")"
echo "SIPp: hosts $h, members $g; every member of spaces and members rows: $held"
machine
