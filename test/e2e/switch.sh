#!/usr/bin/env bash
# Master control (S206-S207): the host's /switch is committed, answered 200
# and followed by a re-INVITE with the new channel's group to every member
# (the host included); a guest's /switch gets 403 and an unknown channel
# 404; the database and every member agree on the channel.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_switch alice share 5091 800
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_switched bob space-1 5092
wait_for "select channel from spaces" sports
sipp_wait guest
sipp_wait host
expect_sql "select channel || ' ' || state from spaces" "sports ended"
e2e_finish
