#!/usr/bin/env bash
# The room's state (RFC 4575): a member SUBSCRIBEs to the space URI and
# gets the full conference-info state, then a partial NOTIFY on every
# change (the switch: the description alone), the last one "deleted" with
# the subscription terminated; un-subscribing (Expires: 0) ends it at
# once; a stranger gets 403.  Every document validates against RFC 4575's
# schema and the room panel's (xmllint).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_switch alice share 5091 2000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_switched bob space-1 5092
wait_for "select count(*) from members where user_id = 'bob'" 1
sipp_run outsider subscriber_refused carol space-1 5093
sipp_run quitter subscriber_leaves alice space-1 5095
sipp_start watcher subscriber bob space-1 5094
sipp_wait watcher
sipp_wait guest
sipp_wait host

# Each NOTIFY body from the watcher's trace, checked against the schema.
awk -v dir="$E2E_DIR" '
	/^-----/ { if (body) close(f); inmsg = 0; body = 0; next }
	/^NOTIFY / { inmsg = 1; body = 0; n++; next }
	inmsg && /^<\?xml/ { body = 1; f = dir "/notify" n ".xml" }
	inmsg && body { print > f }
' "$E2E_DIR/watcher.msg"
count=0
for doc in "$E2E_DIR"/notify*.xml; do
	[ -f "$doc" ] || continue
	count=$((count + 1))
	xmllint --noout --nonet \
		--schema "$SRC/test/data/xsd/conference-tvspace.xsd" "$doc" \
		2>"$doc.lint" || fail "$(basename "$doc") invalid: $(cat "$doc.lint")"
done
[ "$count" -eq 3 ] || fail "expected 3 NOTIFY documents, found $count"
[ "$FAILED" -ne 0 ] || log "ok: $count NOTIFY documents valid against RFC 4575"
e2e_finish
