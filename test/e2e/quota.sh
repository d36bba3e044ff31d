#!/usr/bin/env bash
# Daily playback limit (patent table 2): the space's played time counts
# against the host service while it is live (server clock); members are
# warned at the configured seconds left; at the limit the space ends with
# Reason "daily limit reached"; a service with nothing left cannot start a
# space; played time is booked while live and survives SIGKILL.  Short
# limits and warnings stand in for hours and minutes.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config
cat >>"$E2E_DIR/tvspace.conf" <<CONF
quota_warnings = 4, 2
book_interval = 1
CONF
sql "update service_levels set daily_limit_s = 6 where level = 1" >/dev/null
sql "update service_levels set daily_limit_s = 30 where level = 2" >/dev/null
tv_start

sipp_run host host_quota alice share 5091
expect_sql "select end_reason from spaces where host_user = 'alice'" \
	"daily limit reached"
expect_sql "select seconds from usage where service_default_id = 'svc-alice'" 6
sipp_run again host_over_quota alice share 5092
expect_sql "select count(*) from spaces where host_user = 'alice'" 1

# Played time survives a crash: booked while live, and counted on from
# there after the restart.
sipp_start bob host_resume_alone bob share 5093 3000
wait_for "select count(*) from spaces where host_user = 'bob' and state = 'live'" 1
wait_for "select coalesce(sum(seconds), 0) >= 2 from usage where service_default_id = 'svc-bob'" t
tv_kill
before=$(sql "select seconds from usage where service_default_id = 'svc-bob'")
log "booked before SIGKILL: $before s"
sleep 2 # the space stays live while the server is down
tv_start
sipp_wait bob
wait_for "select state from spaces where host_user = 'bob'" ended
total=$(sql "select seconds from usage where service_default_id = 'svc-bob'")
# The server's own count of the space's life, on the clock it books by.
played=$(sed -n 's/.*space-2 ended: .*, \([0-9]*\) s played.*/\1/p' \
	"$E2E_DIR/tvspaced.log")
log "booked in all: $total s for a space live $played s"
[ "$total" -ge "$before" ] || fail "played time went down after the restart"
[ "$total" = "$played" ] ||
	fail "booked $total s for a space live $played s"
e2e_finish
