#!/usr/bin/env bash
# Run tvspace on this machine: install what is missing, build, start a
# private PostgreSQL cluster under .demo/pg, load the schema, the demo
# subscribers and the demo lineup, and serve SIP on sip:127.0.0.1:5060
# until Ctrl-C.  Beside it, for web browsers: rtpengine, the headend of the
# browser channels (scripts/headend.sh) and Kamailio, which serves the page
# on http://127.0.0.1:8060/ and takes its SIP over WebSocket
# (docs/clients.md).  Options after -- go to tvspaced (e.g. -- --verbose).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target tvspaced --target tvspacectl
web/build.sh >/dev/null

DEMO=$top/.demo
PGDIR=$DEMO/pg
PGPORT=${TVSPACE_DEMO_PGPORT:-54320}
HTTP=${TVSPACE_DEMO_HTTP:-127.0.0.1:8060}
mkdir -p "$DEMO"

PIDS=()
tv_pid=
stop_all() {
	local pid
	for pid in $tv_pid "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $tv_pid "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	scripts/pgctl.sh stop "$PGDIR" "$PGPORT" || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

scripts/pgctl.sh start "$PGDIR" "$PGPORT"
admin="host=$PGDIR/run port=$PGPORT dbname=postgres user=postgres"
conn="host=$PGDIR/run port=$PGPORT dbname=tvspace user=postgres"
if [ "$(psql "$admin" -XAtc "select 1 from pg_database where datname = 'tvspace'")" != 1 ]; then
	psql "$admin" -Xqc "create database tvspace" >/dev/null
fi
build/tvspaced --db "$conn" --migrate
psql "$conn" -Xq -v ON_ERROR_STOP=1 -f db/demo.sql >/dev/null

# etc/demo.conf, with Kamailio's address (127.0.0.2) as the trusted peer
# whose P-Asserted-Identity names the browser's user, and the browser
# channels in the lineup once tvspaced takes them.
lineup=$top/etc/demo-lineup.m3u
sed "s|tvspace-generate=\"ts:|tvspace-generate=\"ts:$top/etc/|" \
	etc/demo-lineup.m3u >"$DEMO/lineup-av.m3u"
grep -v '^#EXTM3U' etc/headend-lineup.m3u >>"$DEMO/lineup-av.m3u"
sed -e "s|^lineup = .*|lineup = $lineup|" \
	-e "s|^control_socket = .*|control_socket = $DEMO/control.sock|" \
	etc/demo.conf >"$DEMO/tvspace.conf"
echo "trusted_peers = 127.0.0.2" >>"$DEMO/tvspace.conf"
if build/tvspaced --config "$DEMO/tvspace.conf" --lineup "$DEMO/lineup-av.m3u" \
	--check >/dev/null 2>&1; then
	lineup=$DEMO/lineup-av.m3u
	sed -i "s|^lineup = .*|lineup = $lineup|" "$DEMO/tvspace.conf"
	browser_channels="Test Red, Test Green and Test Blue have picture and sound"
else
	browser_channels="Music Radio and Kids Radio play in a browser (tvspaced does not serve the picture-and-sound channels of etc/headend-lineup.m3u yet)"
fi

shift_args=()
if [ "${1:-}" = "--" ]; then
	shift
	shift_args=("$@")
fi
echo "tvspace demo: factory sip:share@127.0.0.1:5060, users alice bob carol dave erin frank"
echo "database: psql \"$conn\""
build/tvspaced --config "$DEMO/tvspace.conf" --db "$conn" "${shift_args[@]}" &
tv_pid=$!

# The browser's path: the headend, rtpengine, then Kamailio.
scripts/headend.sh -L "$DEMO" >"$DEMO/headend.log" 2>&1 &
PIDS+=($!)
rtpengine --config-file=etc/rtpengine-webrtc.conf --pidfile="$DEMO/rtpengine.pid" \
	>"$DEMO/rtpengine.log" 2>&1 &
PIDS+=($!)
modules=$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")
sleep 1
PGHOST=$PGDIR/run kamailio -f etc/kamailio-webrtc.cfg -L "$modules" -DD -E \
	-A "HTTP_LISTEN=tcp:$HTTP" -A "SIP_LISTEN=udp:127.0.0.2:5062" \
	-A 'TVSPACED="sip:127.0.0.1:5060"' \
	-A "DBURL=\"tv=>postgres://postgres@:$PGPORT/tvspace\"" \
	-A "WEBROOT=\"$top/web/dist\"" -A "LINEUP=\"$lineup\"" \
	>"$DEMO/kamailio.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	curl -fs -o /dev/null "http://$HTTP/config.json" && break
	sleep 0.2
done
if curl -fs -o /dev/null "http://$HTTP/config.json"; then
	echo "watch together in a web browser: http://$HTTP/ (password tvspace); $browser_channels"
else
	echo "Kamailio does not serve the page; see $DEMO/kamailio.log" >&2
fi
wait "$tv_pid" || true
