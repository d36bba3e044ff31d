#!/usr/bin/env bash
# The programme a space watches, where an operator reads it (issue of the
# patent's service status table): service_status.current_programme names
# the guide's programme on the space's channel at the start, follows a
# /switch, and moves on by itself when the guide's next programme begins
# (a deadline of the space, not a tick); `tvspacectl services` shows it.
. "$(dirname "$0")/../lib/e2e.sh"
: "${TVSPACECTL:?path of the tvspacectl binary}"
db_fresh

xmltv_time() { date -u -d "@$1" +'%Y%m%d%H%M%S +0000'; }
write_guide() { # SPORTS-BOUNDARY-SECONDS-FROM-NOW
	local now b
	now=$(date -u +%s)
	b=$((now + $1))
	cat >"$E2E_DIR/guide.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<tv>
  <programme start="$(xmltv_time $((now - 600)))" stop="$(xmltv_time $((now + 3600)))" channel="news">
    <title lang="en">Evening News</title>
  </programme>
  <programme start="$(xmltv_time $((now - 600)))" stop="$(xmltv_time "$b")" channel="sports">
    <title lang="en">Cup Final</title>
  </programme>
  <programme start="$(xmltv_time "$b")" stop="$(xmltv_time $((now + 3600)))" channel="sports">
    <title lang="en">Extra Time</title>
  </programme>
</tv>
XML
}
write_guide 3600
tv_config
SOCK=$E2E_DIR/control.sock
cat >>"$E2E_DIR/tvspace.conf" <<CONF
guide = $E2E_DIR/guide.xml
control_socket = $SOCK
CONF
tv_start

PROG="select coalesce(current_programme, '-') from service_status where service_default_id = 'svc-alice'"

# Start on news, then /switch sports after 3 s; 12 s more in the space.
sipp_start host host_switch_open alice share 5091 12000
wait_for "select count(*) from spaces where state = 'live'" 1
wait_for "$PROG" "Evening News" 5
expect_sql "select programme_stop - programme_start from service_status where service_default_id = 'svc-alice'" "01:10:00"
wait_for "select channel from spaces" sports 10
wait_for "$PROG" "Cup Final" 5

# The guide says sports' programme changes in 3 s: the space moves on by
# itself, with no switch and no reload at the boundary.
write_guide 3
kill -HUP "$TV_PID"
for _ in $(seq 1 50); do
	[ "$(grep -c "reloaded:" "$E2E_DIR/tvspaced.log")" -ge 1 ] && break
	sleep 0.1
done
expect_sql "$PROG" "Cup Final"
wait_for "$PROG" "Extra Time" 6
log "the programme moved on at the guide's boundary"
OUT=$("$TVSPACECTL" -s "$SOCK" --json services svc-alice)
python3 -c 'import json, sys
r = json.loads(sys.argv[1])[0]
assert r["channel"] == "sports" and r["programme"] == "Extra Time", r' "$OUT" ||
	fail "tvspacectl services: $OUT"
log "ok: tvspacectl services names the programme: $OUT"

sipp_wait host
wait_for "select state from spaces" ended
expect_sql "$PROG" "-"
e2e_finish
