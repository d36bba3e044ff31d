#!/usr/bin/env bash
# RFC 6086: a remote control's keys as an Info Package.  The server lists
# Recv-Info: infoDtmf (the DTMF package of IANA's Info Packages Registry,
# 3GPP TS 24.229) in its 200 and in its re-INVITEs; INFOs of that package
# (Info-Package: infoDtmf, application/dtmf-relay or application/dtmf)
# switch the channel; an INFO naming another package gets 469 Bad Info
# Package with Recv-Info and a Warning (§4.2.2) and changes nothing; INFOs
# without Info-Package keep working (legacy INFO usage, §9).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_run host host_info_package alice share 5091 500
# The scenario checked each answer and re-INVITE (sports by the package's
# keys, news again by the legacy ones); the 469 changed nothing.
grep -q "^SIP/2.0 469 Bad Info Package" "$E2E_DIR/host.msg" ||
	fail "no 469 for the other package"
expect_sql "select channel || ' ' || state from spaces" "news ended"
e2e_finish
