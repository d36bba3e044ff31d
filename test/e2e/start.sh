#!/usr/bin/env bash
# Start (patent S201-S203): the host's INVITE to the factory URI, the space
# and host member committed before the 200, the answer's SDP and Contact;
# the refusals of start; the end books the played time.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_start alice share 5091 1500
wait_for "select count(*) from spaces where state = 'live'" 1
expect_sql "select host_user || ' ' || host_service || ' ' || channel from spaces" \
	"alice svc-alice news"
expect_sql "select user_id || ' ' || service_default_id || ' ' || role || ' ' || delivery || ' ' || sdp_addr || ' ' || sdp_port || ' ' || sdp_pt from members" \
	"alice svc-alice host multicast 232.10.0.1 5004 33"
sipp_wait host
wait_for "select state from spaces" ended
expect_sql "select count(*) from members where left_at is null" 0
expect_sql "select sum(seconds) >= 1 from usage where service_default_id = 'svc-alice'" t

# A set-top box names its channel and delivery in the SDP.
sipp_run stb host_bc_channel bob share 5092 200
expect_sql "select channel from spaces where host_user = 'bob'" sports

# Refusals carry a Warning a person can read.
sipp_run foreign host_not_subscribed alice share 5093
sipp_run nochan host_unknown_channel alice share 5094
sipp_run nospace guest_unknown_space bob space-999 5095
expect_sql "select count(*) from spaces" 2
e2e_finish
