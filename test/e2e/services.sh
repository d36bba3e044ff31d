#!/usr/bin/env bash
# The patent's tables as an operator reads them, through tvspacectl:
# `services [ID]` answers from the view service_status (the members of a
# service's space now, its capacity, limit and time played; text and
# JSON), and `show N` prints a space with its members; the database
# queue's metrics are served.
. "$(dirname "$0")/../lib/e2e.sh"
: "${TVSPACECTL:?path of the tvspacectl binary}"
db_fresh
tv_config
SOCK=$E2E_DIR/control.sock
METRICS=127.0.0.1:9471
cat >>"$E2E_DIR/tvspace.conf" <<CONF
control_socket = $SOCK
metrics_listen = $METRICS
CONF
tv_start

ctl() { "$TVSPACECTL" -s "$SOCK" "$@"; }
ctl_is() { # EXPECTED_STATUS ARGS...: the output in $OUT
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

# Nothing live yet: a service's row is there, with no members.
ctl_is 0 --json services svc-erin
json 'len(r) == 1 and r[0]["service"] == "svc-erin" and r[0]["members"] == 0 and r[0]["space"] is None'
ctl_is 0 services
[ "$(wc -l <<<"$OUT")" = 1 ] || fail "services with nothing live: $OUT"

sipp_start host host_open erin share 5091 10000
wait_for "select is_open from spaces" t
sipp_start bob guest_open_stay bob space-1 5092
sipp_start carol guest_open_stay carol space-1 5093
wait_for "select count(*) from members where left_at is null" 3

# show N: the space line, then one line per member (the man page's "one
# space and its members").
ctl_is 0 show 1
log "show 1:"$'\n'"$OUT"
grep -Eq '^1 +news +erin +3/50 +open' <<<"$OUT" || fail "show: no space line"
for who in "erin +host" "bob +guest" "carol +guest"; do
	grep -Eq "^1 +$who +multicast" <<<"$OUT" || fail "show: no member line [$who]"
done
ctl_is 0 --json show space-1
json 'r["space"]["id"] == 1 and sorted(m["user"] for m in r["members"]) == ["bob", "carol", "erin"]'

# services ID: the patent's columns and what sits beside them.
ctl_is 0 services svc-erin
log "services svc-erin:"$'\n'"$OUT"
grep -Eq '^svc-erin +erin +3 +50 +0 +[0-9]+ +3 +1 +news +-' <<<"$OUT" ||
	fail "services svc-erin: $OUT"
ctl_is 0 --json services svc-erin
json 'r == [{"service": "svc-erin", "user": "erin", "level": 3, "level_name": "premium", "capacity": 50, "daily_limit_s": 0, "played_s": r[0]["played_s"], "booked_s": 0, "members": 3, "live_spaces": 1, "space": 1, "channel": "news", "programme": None, "programme_start": None, "programme_stop": None, "node": None}]'
# services: the services hosting a live space.
ctl_is 0 --json services
json '[s["service"] for s in r] == ["svc-erin"]'
ctl_is 0 services svc-bob
grep -Eq '^svc-bob +bob +2 +8 +14400 +0 +0 +- +- +-' <<<"$OUT" ||
	fail "services svc-bob: $OUT"
ctl_is 1 services nosuch
[[ $OUT == *"no service nosuch"* ]] || fail "services nosuch: $OUT"
ctl_is 1 services a b
# the same as SQL sees it
expect_sql "select current_members from service_status where service_default_id = 'svc-erin'" 3

# A member who comes and goes.
sipp_run dave bench_join dave space-1 5094 500
wait_for "select count(*) from members where left_at is null" 3
ctl_is 0 --json services svc-erin
json 'r[0]["members"] == 3'

sipp_wait host
sipp_wait bob
sipp_wait carol
wait_for "select state from spaces" ended
ctl_is 0 --json services svc-erin
json 'r[0]["members"] == 0 and r[0]["space"] is None and r[0]["played_s"] >= 9 and r[0]["booked_s"] == r[0]["played_s"]'
expect_sql "select played_s >= 9 from service_status where service_default_id = 'svc-erin'" t

# The database queue, measured: idle now.
python3 - "$METRICS" <<'PY' || fail "the database queue's metrics"
import sys, urllib.request
body = urllib.request.urlopen("http://%s/metrics" % sys.argv[1]).read().decode()
values = dict(l.rsplit(" ", 1) for l in body.splitlines()
              if l and not l.startswith("#"))
for name in ("tvspace_db_queue_jobs", "tvspace_db_queue_oldest_seconds",
             "tvspace_db_overloaded", "tvspace_db_rejected_total"):
    assert float(values[name]) == 0, (name, values.get(name))
print("metrics: the database queue is empty, not overloaded, nothing refused")
PY
ctl_is 0 --json stats
json 'r["db_queue"] == 0 and r["db_overloaded"] is False and r["db_rejected"] == 0'
e2e_finish
