#!/usr/bin/env bash
# Join (S204-S205): the guest rings while the host is asked by MESSAGE,
# /allow N admits it (200 with the channel's SDP, committed first); a guest
# leaves with BYE and the space plays on.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_allow alice share 5091 2500
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_join bob space-1 5092 500
wait_for "select count(*) from members where user_id = 'bob'" 1
expect_sql "select role || ' ' || service_default_id || ' ' || admitted_seq from members where user_id = 'bob'" \
	"guest svc-bob 2"
sipp_wait guest
# Guest exit (claim 6): stored, and the space is still live.
wait_for "select leave_reason is not null from members where user_id = 'bob'" t
expect_sql "select state from spaces" live
sipp_wait host
wait_for "select state from spaces" ended
e2e_finish
