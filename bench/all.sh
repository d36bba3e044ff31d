#!/usr/bin/env bash
# Every benchmark of tvspace, one after the other, each printing its table:
# switch time (10, 100 and 1,000 members), join rate beside a SIPp UAS and
# Kamailio, members held, relay throughput beside rtpengine, takeover of a
# killed node's spaces, conference NOTIFY bytes.  About nine minutes on 2
# cores.
#   bench/all.sh
set -euo pipefail
cd "$(dirname "$0")"
echo "== switch time"
bash switch.sh 10 100 1000
echo "== join rate"
bash join.sh
echo "== members held"
bash members.sh
echo "== relay throughput"
bash relay.sh
echo "== takeover (three nodes behind Kamailio, one killed)"
bash takeover.sh
echo "== conference NOTIFY bytes"
bash notify.sh
