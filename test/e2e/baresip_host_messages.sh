#!/usr/bin/env bash
# What a baresip host can and cannot say (docs/clients.md, "Comments and
# join requests").  frank's baresip (Debian's baresip-core 1.0, with its
# contact module, the space as its contact) starts a space on Music Radio.
# carol asks to join: baresip prints the in-dialog MESSAGE "join request 1
# from carol; reply /allow 1 or /deny 1".  baresip's only way to send text
# is its contact module's /message, a MESSAGE outside the call's dialog:
# its "/allow 1" gets 403 "send commands in your dialog with the space",
# and carol's request runs out (480).  What a baresip host uses instead:
# auto_admit = friends and a friend list; bob, frank's friend, joins
# without ringing and baresip prints the notice saying so.  A comment,
# plain text, does pass outside the dialog: bob gets "frank: ...".  frank
# hangs up, and bob gets BYE with "space ended by host".
ADMISSION_TIMEOUT=6
. "$(dirname "$0")/../lib/e2e.sh"
. "$SRC/test/lib/clients.sh"
db_fresh
tv_config
echo "auto_admit = friends" >>"$E2E_DIR/tvspace.conf"
sql "insert into friends (user_id, friend_id) values ('frank', 'bob')"
tv_start

baresip_setup frank
echo "module_app		contact.so" >>"$BS/config"
echo "\"space\" <sip:space-1@127.0.0.1:$SIP_PORT>" >"$BS/contacts"
mkfifo "$BS/keys"
(cd "$BS" && HOME=$BS exec timeout -k 5 60 baresip -f "$BS" -s \
	-e "/dial sip:share@127.0.0.1:$SIP_PORT" -t 50 \
	<"$BS/keys" >"$BS/log" 2>&1) &
BARESIP=$!
SIPP_PIDS+=("$BARESIP")
exec 3>"$BS/keys"
wait_for "select channel || ':' || (select user_id from members where role = 'host') from spaces where state = 'live'" \
	"music:frank"

# carol asks; baresip shows the request
party_start carol carol
party carol join space-1 232.10.0.4
out_wait "$BS/log" "join request 1 from carol; reply /allow 1 or /deny 1"
log "ok: baresip prints the join request (an in-dialog MESSAGE)"

# and cannot answer it: its /message is a MESSAGE outside the dialog
printf '/message /allow 1\n' >&3
out_wait "$BS/log" '^Warning: 399 [^ ]+ "send commands in your dialog with the space"' 5
log "ok: baresip's '/message /allow 1' is refused: 403, outside the dialog"
out_wait "$E2E_DIR/carol.out" "done join space-1 232.10.0.4 480" 15
log "ok: carol's request ran out (480): the host could not allow it"
expect_sql "select count(*) from members where user_id = 'carol'" 0

# what to use instead: friends come in unasked
party_start bob bob
party_do bob join space-1 232.10.0.4
out_wait "$BS/log" "bob joined without asking: a friend of yours"
log "ok: bob, frank's friend, is in without asking, and baresip says so"

# a comment from baresip, outside the dialog, reaches the space
printf '/message hello from baresip\n' >&3
out_wait "$E2E_DIR/bob.out" "got MESSAGE frank: hello from baresip" 5
log "ok: baresip's '/message hello from baresip' reaches bob as frank's comment"

printf 'b' >&3
out_wait "$E2E_DIR/bob.out" "got BYE .*space ended by host" 10
wait_for "select state from spaces" ended
printf 'q' >&3
exec 3>&-
wait "$BARESIP" || true
party_stop bob
party_stop carol
e2e_finish
