#!/usr/bin/env bash
# Master control (S206-S207): the host's /switch is committed, answered 200
# and followed by a re-INVITE with the new channel's group to every member
# (the host included); a guest's /switch gets 403 and an unknown channel
# 400; the database and every member agree on the channel.  Keys from a
# remote control (INFO application/dtmf-relay, digits then #) switch too.
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

# The same from a remote control: keys 2 and # sent as INFO dtmf-relay.
sipp_run remote host_dtmf carol share 5093 300
expect_sql "select channel from spaces where host_user = 'carol'" sports
e2e_finish
