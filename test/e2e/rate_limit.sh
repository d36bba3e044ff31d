#!/usr/bin/env bash
# Per-source rate limiting of requests outside a dialog: one source
# (127.0.0.3) starting spaces at 100 a second against rate_limit = 20 and
# rate_burst = 40 gets 503 with Retry-After for what is over; meanwhile
# another source (127.0.0.4) authenticates and starts spaces one after
# another, every one served; the trusted peer (127.0.0.2) is exempt.  The
# 503s are counted in /metrics; no space is half-written.
. "$(dirname "$0")/../lib/e2e.sh"
METRICS=127.0.0.1:9471
db_fresh
tv_config_digest
cat >>"$E2E_DIR/tvspace.conf" <<CONF
rate_limit = 20
rate_burst = 40
# SIPp answers the first challenge only, and only MD5.
digest_algorithms = MD5, SHA-256
metrics_listen = $METRICS
log_level = info
CONF
tv_start

FLOOD_CALLS=300
FLOOD_RATE=100
sipp -sf "$SCEN/auth_flood.xml" -m $FLOOD_CALLS -r $FLOOD_RATE -nostdin \
	-i 127.0.0.3 -p 5092 -key user alice -key target share \
	-timeout 60s -trace_msg -message_file "$E2E_DIR/flood.msg" \
	"127.0.0.1:$SIP_PORT" >"$E2E_DIR/flood.out" 2>&1 &
FLOOD=$!
SIPP_PIDS+=("$FLOOD")

# The well-behaved source, while the flood runs: 10 spaces started with
# digest (two requests each) and ended, one at a time.
start=$(date +%s%N)
sipp -sf "$SCEN/auth_host_start.xml" -m 10 -r 5 -l 1 -nostdin \
	-i 127.0.0.4 -p 5093 -key user dave -key target share \
	-au dave -ap tvspace -d 100 -timeout 30s -timeout_error -trace_err \
	-error_file "$E2E_DIR/good.errors" "127.0.0.1:$SIP_PORT" \
	>"$E2E_DIR/good.out" 2>&1 ||
	fail "the other source was not served: $(tail -n 5 "$E2E_DIR/good.errors" 2>/dev/null)"
good_ms=$((($(date +%s%N) - start) / 1000000))
log "other source: 10 spaces started and ended in $good_ms ms during the flood"

# The trusted peer is exempt: 60 requests at once, none refused with 503.
PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" <<'PY' ||
import sys
from sipclient import Client, Dialog
c = Client(("127.0.0.1", int(sys.argv[1])), "127.0.0.2", 0, "scscf")
codes = [Dialog(c, "space-999",
                headers=["P-Asserted-Identity: <sip:carol@tvspace.test>"])
         .send("MESSAGE", "hi", "text/plain").status for _ in range(60)]
print("trusted peer: 60 requests, answers", sorted(set(codes)))
sys.exit(0 if 503 not in codes else 1)
PY
	fail "the trusted peer was limited"

wait "$FLOOD" || true
n401=$(grep -c "^SIP/2.0 401" "$E2E_DIR/flood.msg" || true)
n503=$(grep -c "^SIP/2.0 503" "$E2E_DIR/flood.msg" || true)
ra=$(grep -c "^Retry-After: [0-9]" "$E2E_DIR/flood.msg" || true)
log "flood: $FLOOD_CALLS INVITEs at $FLOOD_RATE/s from one source: $n401 challenged (401), $n503 refused (503)"
# (A retransmitted INVITE is answered again: at least one answer each.)
[ $((n401 + n503)) -ge $FLOOD_CALLS ] ||
	fail "flood: $((n401 + n503)) answers for $FLOOD_CALLS INVITEs"
[ "$n503" -ge 100 ] || fail "flood: only $n503 refused with 503"
[ "$n401" -ge 40 ] || fail "flood: only $n401 let through (burst 40)"
[ "$ra" -eq "$n503" ] || fail "flood: $ra Retry-After for $n503 503s"
grep -q 'Warning: 399 tvspace.test "too many requests from your address' \
	"$E2E_DIR/flood.msg" || fail "flood: no Warning on the 503"
m503=$(curl -s "http://$METRICS/metrics" |
	sed -n 's/^tvspace_refusals_total{code="503"} //p')
log "metrics: tvspace_refusals_total{code=\"503\"} $m503"
[ "$m503" = "$n503" ] || fail "metrics count $m503 503s, sipp saw $n503"
# Nothing half-written: the 10 spaces of the served source, all ended.
expect_sql "select count(*) || ':' || count(ended) from spaces" "10:10"
expect_sql "select count(*) from spaces where host_user <> 'dave'" 0
e2e_finish
