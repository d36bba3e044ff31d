#!/usr/bin/env bash
# A stop that comes while the live spaces are being rebuilt at start.  A
# node left 3,000 live spaces (a host each, its dialog's identifiers
# stored; the hosts' address answers nothing).  tvspaced rebuilds them a
# slice of the loop at a time, re-INVITEing each host; SIGTERM comes in
# the middle.  The rebuilding stops with it: no "ready" after the signal
# (the node does not go on to serve), a clean exit, and every space still
# stored live for the next start.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
N=3000
sql "INSERT INTO users (user_id)
       SELECT 'h' || i FROM generate_series(1, $N) i;
     INSERT INTO services (service_default_id, user_id, level,
                           default_channel, is_default)
       SELECT 'svc-h' || i, 'h' || i, 3, 'news', true
         FROM generate_series(1, $N) i;
     INSERT INTO spaces (host_service, host_user, channel, started)
       SELECT 'svc-h' || i, 'h' || i, 'news', now()
         FROM generate_series(1, $N) i;
     INSERT INTO members (space_id, user_id, service_default_id, role,
                          delivery, sdp_addr, sdp_port, sdp_media, sdp_pt,
                          admitted_seq, call_id, local_tag, remote_tag,
                          local_uri, remote_uri, remote_target, joined)
       SELECT s.id, s.host_user, s.host_service, 'host', 'multicast',
              '232.10.0.1', 5004, 'video', 33, 1, 'c' || s.id || '@h',
              'l' || s.id, 'r' || s.id,
              'sip:space-' || s.id || '@127.0.0.1',
              'sip:' || s.host_user || '@127.0.0.1',
              'sip:' || s.host_user || '@127.0.0.1:5099', now()
         FROM spaces s"
expect_sql "select count(*) from spaces where state = 'live'" "$N"

tv_config
"$TVSPACED" --config "$E2E_DIR/tvspace.conf" --db "$CONN" \
	>"$E2E_DIR/tvspaced.log" 2>&1 &
TV_PID=$!
# the first of the hosts taken up: the rebuilding has begun
for _ in $(seq 1 200); do
	grep -q "restored with" "$E2E_DIR/tvspaced.log" && break
	grep -q "ready:" "$E2E_DIR/tvspaced.log" && break
	sleep 0.02
done
grep -q "ready:" "$E2E_DIR/tvspaced.log" &&
	die "the $N spaces were rebuilt before the stop could come: more are needed"
kill -TERM "$TV_PID"
status=0
wait "$TV_PID" || status=$?
TV_PID=
log "tvspaced exited with status $status"
[ "$status" = 0 ] || fail "tvspaced exited with status $status"
# (read whole first: grep -q leaving early would fail the pipeline)
after=$(sed -n '/signal 15/,$p' "$E2E_DIR/tvspaced.log")
grep -q "ready:" <<<"$after" && fail "tvspaced went on to serve after the stop"
grep -q "cannot restore" "$E2E_DIR/tvspaced.log" &&
	fail "the stop was taken for a failed restore"
expect_sql "select count(*) from spaces where state = 'live'" "$N"
e2e_finish
