#!/usr/bin/env bash
# Comments (claim 4): a member's MESSAGE that is not a command is stored
# with author and time, answered 200 and relayed to every other member from
# the space (text/plain "AUTHOR: TEXT", or message/cpim when the member's
# Accept lists it); over max_body it gets 413; a non-member gets 403.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_comments alice share 5091 1000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start guest guest_comments bob space-1 5092
sipp_run stranger stray_comment_refused carol space-1 5093
sipp_wait guest
sipp_wait host
# A late joiner is sent the comments made before it came.
sipp_start host2 host_open_comment carol share 5094 1500
wait_for "select count(*) from comments where author = 'carol'" 1
sipp_run late guest_history dave space-2 5095
sipp_wait host2

# Bodies are stored verbatim, the line break SIPp ends them with included.
expect_sql "select string_agg(author || ':' || rtrim(body, E'\\r\\n'), '|' order by id) from comments" \
	"bob:hello all|alice:welcome bob|carol:before you came"
e2e_finish
