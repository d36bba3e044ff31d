#!/usr/bin/env bash
# The User-Agent tvspaced sends (in requests and, as nua does, in
# responses) names its version only where it listens on loopback: on any
# other address it says "tvspace", unless server_header says what to send
# ("" for nothing).  The test runs in a network namespace of its own with a
# documentation address (192.0.2.10) on its loopback interface, so the
# server listens on an address that is not loopback; it reads the header
# of the answer to an OPTIONS in each configuration.
set -euo pipefail
if [ -z "${TV_AGENT_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || {
		echo "server_header: needs root (a network namespace)" >&2
		exit 1
	}
	ns=tvagent-$$
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip addr add 192.0.2.10/32 dev lo
	rc=0
	ip netns exec "$ns" env TV_AGENT_NS="$ns" bash "$0" || rc=$?
	exit "$rc"
fi

. "$(dirname "$0")/../lib/e2e.sh"
RAW="python3 $SRC/test/lib/rawsip.py"
export SIP_PORT

# agent_is HOST WANT: the User-Agent of the answer to an OPTIONS sent to
# HOST is WANT.
agent_is() {
	local got
	got=$(SIP_HOST=$1 $RAW agent | sed -n 's/^User-Agent: //p')
	if [ "$got" = "$2" ]; then
		log "ok: listening on $1 ($3): User-Agent: $got"
	else
		fail "listening on $1 ($3): User-Agent [$got], want [$2]"
	fi
}

version=$("$TVSPACED" --version | sed -n 's/^tvspaced //p')
db_fresh

tv_config
tv_start
agent_is 127.0.0.1 "tvspace/$version" "loopback, by default"
tv_stop

sed -i "s|^listen = .*|listen = sip:192.0.2.10:$SIP_PORT|" \
	"$E2E_DIR/tvspace.conf"
tv_start
agent_is 192.0.2.10 tvspace "not loopback, by default"
tv_stop

echo 'server_header = "tvspace/test (lab)"' >>"$E2E_DIR/tvspace.conf"
tv_start
agent_is 192.0.2.10 "tvspace/test (lab)" "server_header set"
tv_stop

sed -i 's|^server_header = .*|server_header = ""|' "$E2E_DIR/tvspace.conf"
tv_start
agent_is 192.0.2.10 none 'server_header = ""'
e2e_finish
