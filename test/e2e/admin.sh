#!/usr/bin/env bash
# The operator's tools: tvspacectl over the control socket lists spaces,
# members and channels (text and JSON), removes a member, reloads, ends a
# space, and says why when it cannot; the metrics endpoint serves the
# Prometheus text format with the counts of what happened.
. "$(dirname "$0")/../lib/e2e.sh"
: "${TVSPACECTL:?path of the tvspacectl binary}"
db_fresh
tv_config
SOCK=$E2E_DIR/control.sock
METRICS=127.0.0.1:9470
cat >>"$E2E_DIR/tvspace.conf" <<CONF
control_socket = $SOCK
metrics_listen = $METRICS
CONF
tv_start

ctl() { "$TVSPACECTL" -s "$SOCK" "$@"; }
# ctl_is EXPECTED_STATUS ARGS...: the exit status, and the output in $OUT.
ctl_is() {
	local want=$1 rc=0
	shift
	OUT=$(ctl "$@" 2>&1) || rc=$?
	if [ "$rc" -eq "$want" ]; then
		log "ok: tvspacectl $* -> $rc"
	else
		fail "tvspacectl $*: status $rc, want $want: $OUT"
	fi
}
json() { # PYTHON-CONDITION on r, the JSON in $OUT
	python3 -c 'import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$OUT" "$1" ||
		fail "JSON [$OUT] does not satisfy $1"
}
metrics() { # the body of GET /metrics (or PATH)
	python3 - "$METRICS" "${1:-/metrics}" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://%s%s" % (sys.argv[1], sys.argv[2]))
    print(r.headers["Content-Type"])
    print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
PY
}

ctl_is 0 version
# An answer that cannot be written out (a full disk) is a failure.
rc=0
ctl version >/dev/full 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "tvspacectl version >/dev/full: status $rc, want 2"
[[ $OUT == "tvspaced "* ]] || fail "version: $OUT"
ctl_is 0 --json channels
json 'len(r) == 5 and r[0]["id"] == "news" and r[0]["generate"].endswith("demo-news.ts")'

sipp_start host host_open_operator erin share 5091
wait_for "select is_open from spaces" t
sipp_start bob guest_open_kicked bob space-1 5092
sipp_start carol guest_open_operator carol space-1 5093
wait_for "select count(*) from members where left_at is null" 3

ctl_is 0 spaces
grep -Eq '^1 +news +erin +3/50 +open' <<<"$OUT" || fail "spaces: $OUT"
ctl_is 0 --json spaces
json 'r == [{"id": 1, "channel": "news", "host": "erin", "service": "svc-erin", "members": 3, "capacity": 50, "open": True, "played_s": r[0]["played_s"]}]'
ctl_is 0 --json show space-1
json '[m["user"] for m in sorted(r["members"], key=lambda m: m["seq"])][0] == "erin" and sorted(m["role"] for m in r["members"]) == ["guest", "guest", "host"]'
ctl_is 0 members 1
[ "$(grep -c multicast <<<"$OUT")" = 3 ] || fail "members: $OUT"
ctl_is 1 show 7
[[ $OUT == *"no live space 7"* ]] || fail "show 7: $OUT"
ctl_is 1 kick 1 erin
[[ $OUT == *"is the host"* ]] || fail "kick host: $OUT"
ctl_is 1 kick 1 nobody
ctl_is 1 frobnicate
[[ $OUT == *"unknown command"* ]] || fail "unknown: $OUT"
ctl_is 2 -s "$E2E_DIR/nothing.sock" version

ctl_is 0 kick 1 bob
sipp_wait bob
wait_for "select leave_reason from members where user_id = 'bob'" \
	"removed by operator"

OUT=$(metrics)
log "metrics: $(grep -c '^tvspace_' <<<"$OUT") samples"
python3 - "$OUT" <<'PY' || FAILED=1
import re, sys
text = sys.argv[1]
head, body = text.split("\n", 1)
assert head.startswith("text/plain; version=0.0.4"), head
sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? '
                    r'[-+0-9.eInf]+$')
values = {}
for line in body.strip().split("\n"):
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        continue
    assert sample.match(line), "not a sample: " + line
    name, value = line.rsplit(" ", 1)
    values[name] = float(value)
want = {
    "tvspace_spaces": 1, "tvspace_starts_total": 1, "tvspace_joins_total": 2,
    'tvspace_members{role="host",mode="multicast"}': 1,
    'tvspace_members{role="guest",mode="multicast"}': 1,
    "tvspace_channels": 5,
}
for k, v in want.items():
    assert values.get(k) == v, (k, values.get(k), v)
assert values["tvspace_db_query_seconds_count"] > 0
assert values['tvspace_db_query_seconds_bucket{le="+Inf"}'] == \
    values["tvspace_db_query_seconds_count"]
print("metrics ok:", {k: values[k] for k in want})
PY
[ "$(metrics /other)" = 404 ] || fail "GET /other is not 404"

ctl_is 0 reload
wait_for "select 1" 1
for _ in $(seq 1 50); do
	grep -q "reloaded:" "$E2E_DIR/tvspaced.log" && break
	sleep 0.1
done
grep -q "reloaded: 5 channels" "$E2E_DIR/tvspaced.log" || fail "no reload"

ctl_is 0 end 1
sipp_wait host
sipp_wait carol
wait_for "select state from spaces" ended
expect_sql "select string_agg(user_id || ':' || leave_reason, ',' order by user_id) from members" \
	"bob:removed by operator,carol:space ended by the operator,erin:space ended by the operator"
ctl_is 1 end 1
ctl_is 0 --json stats
json 'r["starts"] == 1 and r["joins"] == 2 and r["spaces"] == 0'
tv_stop
[ ! -e "$SOCK" ] || fail "the control socket is left behind"
e2e_finish
