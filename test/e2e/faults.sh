#!/usr/bin/env bash
# Faults the SIP side must shrug off: a BYE with forged tags gets 481 and
# ends nothing; two joiners racing for the last seat of an open space get
# one 200 and one 486 (the core takes the seat before the commit, on one
# thread); joiners whose SIPp loses 10% of the messages it sends and
# receives (-lost 10) all get in and out through retransmissions, each
# join and leave stored once.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

# alice's basic service holds 4: alice, bob, carol, and one seat left.
sipp_start host host_open alice share 5091 15000
wait_for "select is_open from spaces" t
sipp_start bob guest_open_stay bob space-1 5092
sipp_start carol guest_open_stay carol space-1 5093
wait_for "select count(*) from members where left_at is null" 3
sipp_run forged stranger_bye dave space-1 5094
expect_sql "select count(*) from members where left_at is null" 3

sipp -sf "$SCEN/guest_race.xml" -m 2 -r 1000 -l 2 -nostdin -i 127.0.0.1 \
	-p 5095 -key target space-1 -d 1000 -timeout 30s -trace_msg \
	-message_file "$E2E_DIR/race.msg" "127.0.0.1:$SIP_PORT" \
	>"$E2E_DIR/race.out" 2>&1 || fail "race: sipp failed"
got=$(grep -c "^SIP/2.0 200 OK" "$E2E_DIR/race.msg" || true)
full=$(grep -c "^SIP/2.0 486" "$E2E_DIR/race.msg" || true)
log "race for the last seat: $full refused with 486; members rows of the racers: $(sql "select count(*) from members where user_id in ('g1', 'g2')")"
[ "$full" -ge 1 ] || fail "nobody was refused the last seat"
expect_sql "select count(*) from members where user_id in ('g1', 'g2')" 1
wait_for "select count(*) from members where user_id in ('g1', 'g2') and left_at is not null" 1

# Lossy joiners into erin's open space (50 seats).
sipp_start erin host_open erin share 5096 20000
wait_for "select count(*) from spaces where is_open and id = 2" 1
sipp -sf "$SCEN/guest_race.xml" -m 20 -r 10 -l 20 -lost 10 -nostdin \
	-i 127.0.0.1 -p 5097 -key target space-2 -d 500 -timeout 60s \
	-trace_err -error_file "$E2E_DIR/lossy.errors" \
	"127.0.0.1:$SIP_PORT" >"$E2E_DIR/lossy.out" 2>&1 ||
	fail "lossy joiners: sipp failed ($(tail -n 3 "$E2E_DIR/lossy.errors" 2>/dev/null))"
wait_for "select count(*) || ':' || count(left_at) from members where space_id = 2 and user_id like 'g%'" \
	"20:20"
expect_sql "select count(distinct user_id) from members where space_id = 2 and user_id like 'g%'" 20
sipp_wait host
sipp_wait bob
sipp_wait carol
sipp_wait erin
e2e_finish
