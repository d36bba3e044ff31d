#!/usr/bin/env bash
# The programme guide (XMLTV): the room panel in the conference NOTIFY
# names the programme on the space's channel now; SIGHUP reloads the guide
# and the lineup without touching live spaces.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh

write_guide() { # TITLE
	local now start stop
	now=$(date -u +%s)
	start=$(date -u -d "@$((now - 600))" +%Y%m%d%H%M%S)
	stop=$(date -u -d "@$((now + 3600))" +%Y%m%d%H%M%S)
	cat >"$E2E_DIR/guide.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<tv>
  <programme start="$start +0000" stop="$stop +0000" channel="news">
    <title lang="en">$1</title>
  </programme>
</tv>
XML
}
write_guide "Evening News"
tv_config
echo "guide = $E2E_DIR/guide.xml" >>"$E2E_DIR/tvspace.conf"
tv_start

sipp_start host host_start alice share 5091 2000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_run watcher subscriber_once alice space-1 5092
sipp_wait host
grep -q 'tv:program title="Evening News"' "$E2E_DIR/watcher.msg" ||
	fail "the NOTIFY does not name the programme"

# A new guide, and a reload that keeps a live space.
sipp_start host2 host_start carol share 5093 3000
wait_for "select count(*) from spaces where state = 'live'" 1
write_guide "Late News"
kill -HUP "$TV_PID"
for _ in $(seq 1 50); do
	grep -q "reloaded: 5 channels, 1 programmes" "$E2E_DIR/tvspaced.log" &&
		break
	sleep 0.1
done
grep -q "reloaded: 5 channels, 1 programmes" "$E2E_DIR/tvspaced.log" ||
	fail "no reload after SIGHUP"
expect_sql "select count(*) from spaces where state = 'live'" 1
sipp_run watcher2 subscriber_once carol space-2 5094
sipp_wait host2
grep -q 'tv:program title="Late News"' "$E2E_DIR/watcher2.msg" ||
	fail "the reloaded guide is not used"
e2e_finish
