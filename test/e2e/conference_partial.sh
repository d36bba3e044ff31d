#!/usr/bin/env bash
# Partial notifications (RFC 4575 §4.6): the host watches its open room;
# its first NOTIFY is the full state, the next ones carry only the users
# that changed: bob joining (his whole user), bob leaving (disconnected,
# disconnection-method departed), carol joining with bob deleted; the last
# one says the space is gone and ends the subscription with
# reason=noresource (test/sipp/subscriber_partial.xml).  Display names come
# from the users table (db/demo.sql).  Every body validates against RFC
# 4575's schema with the room panel's (docs/tvspace-space.xsd), and a
# partial one carries neither the description nor users that did not
# change.  The focus's responses say Allow-Events: conference.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

# notify_seen N: the watcher's trace holds N NOTIFYs.
notify_seen() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c '^NOTIFY ' "$E2E_DIR/watcher.msg" 2>/dev/null)" -ge "$1" ] &&
			return 0
		sleep 0.1
	done
	die "the watcher did not get NOTIFY $1"
}

sipp_start host host_open alice share 5091 8000
wait_for "select count(*) from spaces where is_open" 1
sipp_start watcher subscriber_partial alice space-1 5094
notify_seen 1
sipp_start bob guest_open_bye bob space-1 5092 1000
notify_seen 3
sipp_start carol guest_open_stay carol space-1 5093
sipp_wait watcher
sipp_wait bob
sipp_wait carol
sipp_wait host

# The focus's 200 to the host's INVITE lists the package too.
awk '/^SIP\/2.0 200/ { ok = 1 } ok && /^CSeq: 1 INVITE/ { inv = 1 }
	ok && inv && /^Allow-Events: conference/ { found = 1 }
	/^-----/ { ok = 0; inv = 0 }
	END { exit !found }' "$E2E_DIR/host.msg" ||
	fail "no Allow-Events: conference on the 200 to the host's INVITE"

# Each NOTIFY body from the watcher's trace.
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
[ "$count" -eq 5 ] || fail "expected 5 NOTIFY documents, found $count"
for n in 2 3 4; do
	doc=$E2E_DIR/notify$n.xml
	! grep -q "conference-description" "$doc" ||
		fail "notify$n: a partial NOTIFY repeats the description"
	! grep -q 'entity="sip:alice@' "$doc" ||
		fail "notify$n: a partial NOTIFY lists alice, who did not change"
done
bytes() { wc -c <"$E2E_DIR/notify$1.xml"; }
log "bodies: full $(bytes 1) bytes, then partial $(bytes 2), $(bytes 3), $(bytes 4)"
[ "$FAILED" -ne 0 ] || log "ok: $count NOTIFY documents valid, partial after the first"
e2e_finish
