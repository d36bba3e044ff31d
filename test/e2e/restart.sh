#!/usr/bin/env bash
# Crash and restart: tvspaced is killed with SIGKILL while a space is live
# with a host and a guest.  Started again, it rebuilds the space, its
# members and roles from the database, and takes both dialogs up again with
# a re-INVITE on the same channel; the host's BYE then ends the space for
# the guest as before the crash.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_resume alice share 5091 1000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_resume bob space-1 5092
wait_for "select count(*) from members where left_at is null and local_tag is not null" 2
# The stored tag is the one our answers gave each dialog (the To of the
# responses each party received): the re-INVITEs after the restart carry
# it.
for p in host:alice guest:bob; do
	tag=$(sql "select local_tag from members where user_id = '${p#*:}'")
	awk '/message received/ { in_ = 1 } /message sent/ { in_ = 0 }
		/^SIP\/2\.0 / { r = in_ } /^[A-Z]+ sip:/ { r = 0 }
		r && /^To:/' "$E2E_DIR/${p%%:*}.msg" | grep -q ";tag=$tag\b" ||
		fail "${p#*:}: stored tag $tag is not the To tag of our answers"
done
tv_kill
log "tvspaced killed with SIGKILL"
expect_sql "select state from spaces" live
tv_start
grep -q "space-1 restored with 2 members" "$E2E_DIR/tvspaced.log" ||
	fail "space-1 not restored with 2 members"
sipp_wait host
sipp_wait guest
wait_for "select state from spaces" ended
expect_sql "select string_agg(user_id || ':' || role, ',' order by admitted_seq) from members" \
	"alice:host,bob:guest"
e2e_finish
