#!/usr/bin/env bash
# Watch together in a web browser, as a person would: tvspaced on its own
# database, rtpengine and Kamailio (etc/kamailio-webrtc.cfg, which serves
# the page and takes SIP over WebSocket) on loopback, and headless Chromium
# (Debian's, driven by puppeteer-core) with two pages, alice's and bob's:
# alice starts a space, bob opens its link and asks to join, alice lets
# him in, both receive the channel (getStats; the tone's pitch), comments
# go both ways, alice switches channel and both pages' sound changes (timed
# on bob's page), she hands the remote to bob, bob ends the space and
# alice's page says so.  Then every other control: a join denied, an open
# space, the comment history, a guest's grab, a quiz, a friend, a member
# removed, a guest leaving, the daily limit's warning
# (test/lib/browser/watch_together.mjs).
#
# The same again on the picture-and-sound channels of scripts/headend.sh
# (VP8 and H.264 with PCMU, two RTP streams): both pages decode the
# picture, a switch changes both pages' colour (timed to the guest's first
# decoded frame of the new channel), and a switch from VP8 to H.264 and
# back needs no new offer.  (Skipped, saying why, if tvspaced --check
# refuses etc/headend-lineup.m3u.)  Screenshots of both pages at every step, the
# figures (results.json) and the SIP of every dialog (sipdump) are kept in
# the test's folder.  Skipped (CTest's 77) only where Chromium cannot start.
#
# Ports: tvspaced SIP 5370, relay 47000-47199; Kamailio HTTP and WebSocket
# 127.0.0.1:5380, SIP towards tvspaced 127.0.0.2:5382; rtpengine control
# 5384, media 47200-47399; the headend's groups 232.20.0.11-13.
SIP_PORT=5370
. "$(dirname "$0")/../lib/e2e.sh"

HTTP_PORT=5380
KAM_SIP=127.0.0.2:5382
NG_PORT=5384
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
LIB=$SRC/test/lib/browser
OUT=$E2E_DIR/screenshots
mkdir -p "$OUT" "$E2E_DIR/sip"

skip() {
	log "SKIP: $*"
	exit 77
}

[ -x "$CHROMIUM" ] || skip "Chromium is not installed ($CHROMIUM)"
for tool in kamailio rtpengine ffmpeg node npm; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/deps.sh)"
done
# Chromium gathers ICE candidates only on an interface other than loopback
# that has a route (docs/clients.md); without one no media can flow.
if [ -z "$(ip -o addr show scope global 2>/dev/null)" ] ||
	[ -z "$(ip route show default 2>/dev/null; ip -6 route show default 2>/dev/null)" ]; then
	die "WebRTC needs a network interface other than loopback, with a default route, for Chromium's ICE candidates; this machine (or namespace) has none"
fi
KAM_MODULES=$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")
for m in websocket xhttp rtpengine db_postgres; do
	[ -f "$KAM_MODULES/$m.so" ] || die "Kamailio's $m module is not installed (scripts/deps.sh)"
done

KAM_PID=
RTPE_PID=
HEADEND_PID=
browser_cleanup() {
	local pid
	for pid in $KAM_PID $RTPE_PID $HEADEND_PID; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $KAM_PID $RTPE_PID $HEADEND_PID; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$E2E_DIR/chromium-profile"
	e2e_cleanup
}
trap browser_cleanup EXIT

# The page, built from its pinned packages; the test's own (puppeteer-core).
"$SRC/web/build.sh" "$E2E_DIR/web" >"$E2E_DIR/web-build.log" 2>&1 ||
	die "the page does not build: $(tail -n 5 "$E2E_DIR/web-build.log")"
(
	cd "$LIB"
	exec 9>.npm.lock
	flock 9
	if [ ! -f node_modules/.package-lock.json ] ||
		[ package-lock.json -nt node_modules/.package-lock.json ]; then
		PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	fi
) >"$E2E_DIR/npm.log" 2>&1 || die "npm ci in test/lib/browser failed: $(tail -n 5 "$E2E_DIR/npm.log")"

db_fresh
# frank has 250 s of his day left (whatever day the server's clock says):
# his page must warn him.
sql "INSERT INTO usage (service_default_id, day, seconds)
     SELECT 'svc-frank', d::date, 7200 - 250
     FROM generate_series(current_date - 1, current_date + 1, '1 day') d" \
	>/dev/null
tv_config_digest
# Chromium, the headend's three encoders, rtpengine and Kamailio share the
# machine with tvspaced: a start must not be refused as overload (503)
# because they took the CPU for a moment (the overload tests test that).
cat >>"$E2E_DIR/tvspace.conf" <<CONF
rtp_port_min = 47000
rtp_port_max = 47199
max_loop_lag = 2000
CONF

# The lineup: the demo's, and the browser channels when tvspaced takes
# them.  The demo's transport stream files are named by absolute path.
sed "s|tvspace-generate=\"ts:|tvspace-generate=\"ts:$SRC/etc/|" \
	"$SRC/etc/demo-lineup.m3u" >"$E2E_DIR/lineup.m3u"
cat "$E2E_DIR/lineup.m3u" "$SRC/etc/headend-lineup.m3u" |
	grep -v '^#EXTM3U' | sed '1i #EXTM3U' >"$E2E_DIR/lineup-av.m3u"
sed "s|^lineup = .*|lineup = $E2E_DIR/lineup-av.m3u|" \
	"$E2E_DIR/tvspace.conf" >"$E2E_DIR/check.conf"
VIDEO=
if "$TVSPACED" --config "$E2E_DIR/check.conf" --check \
	>"$E2E_DIR/check.log" 2>&1; then
	sed -i "s|^lineup = .*|lineup = $E2E_DIR/lineup-av.m3u|" \
		"$E2E_DIR/tvspace.conf"
	# [{id, hz, rgb}] of the browser channels: two VP8, one H.264.
	VIDEO=$(python3 - "$SRC/etc/headend-lineup.m3u" <<'PY'
import json, re, sys
out = []
for line in open(sys.argv[1]):
    m = re.search(r'tvg-id="([^"]+)".*tvspace-testsrc="colour=#(\w{6}) tone=(\d+)"', line)
    if m:
        c = m.group(2)
        out.append({"id": m.group(1), "hz": int(m.group(3)),
                    "rgb": [int(c[i:i + 2], 16) for i in (0, 2, 4)]})
print(json.dumps(out[:3]))
PY
)
	VIDEO_SKIP=
else
	sed -i "s|^lineup = .*|lineup = $E2E_DIR/lineup.m3u|" \
		"$E2E_DIR/tvspace.conf"
	VIDEO_SKIP="tvspaced does not serve channels of separate audio and video streams yet (tvspaced --check on etc/headend-lineup.m3u: $(grep -o -m1 'line [0-9]*: .*' "$E2E_DIR/check.log" || tail -n 1 "$E2E_DIR/check.log"))"
	log "the video checks will be skipped: $VIDEO_SKIP"
fi
LINEUP=$(sed -n 's/^lineup = //p' "$E2E_DIR/tvspace.conf")
if [ -n "$VIDEO" ]; then
	# A small picture: its colour is all the pages check.
	"$SRC/scripts/headend.sh" -l "$SRC/etc/headend-lineup.m3u" -s 320x180 \
		-L "$E2E_DIR" >"$E2E_DIR/headend.log" 2>&1 &
	HEADEND_PID=$!
fi
tv_start

rtpengine --config-file="$SRC/etc/rtpengine-webrtc.conf" \
	--listen-ng="127.0.0.1:$NG_PORT" --port-min=47200 --port-max=47399 \
	--log-level=7 >"$E2E_DIR/rtpengine.log" 2>&1 &
RTPE_PID=$!
wait_udp "$NG_PORT"
kill -0 "$RTPE_PID" 2>/dev/null || die "rtpengine exited: $(tail -n 5 "$E2E_DIR/rtpengine.log")"

# Kamailio reads users and friends over the cluster's socket (PGHOST): an
# empty host in its database URL leaves the choice to libpq.
PGHOST=$PGHOST_DIR kamailio -f "$SRC/etc/kamailio-webrtc.cfg" \
	-L "$KAM_MODULES" -DD -E -n 2 \
	-A "HTTP_LISTEN=tcp:127.0.0.1:$HTTP_PORT" -A "SIP_LISTEN=udp:$KAM_SIP" \
	-A "TVSPACED=\"sip:127.0.0.1:$SIP_PORT\"" \
	-A "DBURL=\"tv=>postgres://postgres@:$PGPORT_NUM/$DBNAME\"" \
	-A "WEBROOT=\"$E2E_DIR/web\"" -A "LINEUP=\"$LINEUP\"" \
	-A "RTPENGINE=\"udp:127.0.0.1:$NG_PORT\"" \
	-A "SIPDUMP=\"$E2E_DIR/sip\"" \
	>"$E2E_DIR/kamailio.log" 2>&1 &
KAM_PID=$!
for i in $(seq 1 200); do
	curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/config.json" && break
	kill -0 "$KAM_PID" 2>/dev/null || die "kamailio exited: $(grep -m3 -E 'ERROR|CRIT' "$E2E_DIR/kamailio.log")"
	sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/config.json" ||
	die "Kamailio does not serve the page"
log "ok: Kamailio serves the page on http://127.0.0.1:$HTTP_PORT/"

# What else the HTTP side answers: the WebSocket only to the page's own
# origin, nothing but the page's files.
http_code() { # PATH [CURL ARGS...]
	local path=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" \
		"http://127.0.0.1:$HTTP_PORT$path" || true
}
ws_args=(-H "Connection: Upgrade" -H "Upgrade: websocket"
	-H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Protocol: sip"
	-H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")
for check in \
	"101 /ws -H Origin:http://127.0.0.1:$HTTP_PORT" \
	"403 /ws -H Origin:http://elsewhere.example" \
	"404 /../../etc/passwd" "404 /web/build.sh" "200 /lineup.m3u"; do
	read -r want path arg val <<<"$check"
	if [ "$path" = /ws ]; then
		got=$(http_code "$path" "${ws_args[@]}" --max-time 1 "$arg" "$val")
	else
		got=$(http_code "$path" --path-as-is)
	fi
	if [ "$got" = "$want" ]; then
		log "ok: GET $path ${val:-} -> $got"
	else
		fail "GET $path ${val:-}: want $want, got $got"
	fi
done

rc=0
BASE_URL="http://127.0.0.1:$HTTP_PORT/" OUT="$OUT" CHROMIUM="$CHROMIUM" \
	PROFILE="$E2E_DIR/chromium-profile" VIDEO="$VIDEO" \
	VIDEO_SKIP="$VIDEO_SKIP" \
	node "$LIB/watch_together.mjs" || rc=$?
[ "$rc" -eq 77 ] && skip "Chromium cannot start here (see above)"
[ "$rc" -eq 0 ] || FAILED=1
log "screenshots, results.json: $OUT; SIP: $E2E_DIR/sip"
if [ "$FAILED" -ne 0 ]; then
	echo "--- kamailio log (errors)"
	grep -E 'ERROR|CRIT' "$E2E_DIR/kamailio.log" | tail -n 20 || true
fi
e2e_finish
