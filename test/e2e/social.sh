#!/usr/bin/env bash
# The friend list and the quiz (PROTOCOL.md "Friends", "Quiz"): with
# auto_admit = friends, the host bob befriends carol and she comes in
# without asking (bob is told); bob runs a quiz (his family level has the
# quiz feature), carol answers, /quiz end stores the tally with the
# channel and tells everyone; /unfriend undoes the friendship, and an
# unknown user, a wrong answer and a guest's /quiz are refused.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config
echo "auto_admit = friends" >>"$E2E_DIR/tvspace.conf"
tv_start

sipp_start host host_social bob share 5091 1500
wait_for "select count(*) from friends where user_id = 'bob' and friend_id = 'carol'" 1
sipp_start carol guest_quiz carol space-1 5092
sipp_wait host
sipp_wait carol
expect_sql "select question || ':' || array_to_string(answers, '/') || ':' || array_to_string(tally, '/') || ':' || channel || ':' || asked_by from quizzes" \
	"Who scores first?:Home/Away:0/1:news:bob"
expect_sql "select count(*) from friends" 0
expect_sql "select string_agg(user_id || ':' || role, ',' order by admitted_seq) from members" \
	"bob:host,carol:guest"
e2e_finish
