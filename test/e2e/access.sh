#!/usr/bin/env bash
# The access matrix: every role (host, guest, pending, stranger, member of
# another space, untrusted P-Asserted-Identity) x every action (/switch,
# /handover, /grab, /kick, /open, /close, /end, a comment, REFER inviting,
# REFER removing, SUBSCRIBE, INFO DTMF, /quiz) against one space, each
# answered as docs/sip-interface.md says (test/lib/access_matrix.py).
# Everyone authenticates by digest: loopback is not trusted here.  What a
# refused request would have changed is checked in the database.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config_digest
echo "rate_limit = 0" >>"$E2E_DIR/tvspace.conf"
tv_start

PYTHONPATH="$SRC/test/lib" python3 "$SRC/test/lib/access_matrix.py" \
	"$SIP_PORT" | tee "$E2E_DIR/matrix.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "access matrix"
grep "^access matrix:" "$E2E_DIR/matrix.out" || fail "no matrix summary"

# Refused requests changed nothing: only the members' comments are stored,
# no stranger, pending joiner or outsider ever became a member of space 1,
# and its channel moved only by the host (sports, then channel 1 by DTMF).
expect_sql "select string_agg(author, ',' order by id) from comments where space_id = 1" \
	"dave,bob"
expect_sql "select count(*) from members where space_id = 1 and user_id in ('frank', 'erin', 'mallory', 'carol', 'alice')" 0
expect_sql "select count(*) from spaces where state = 'live'" 1
e2e_finish
