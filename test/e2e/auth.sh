#!/usr/bin/env bash
# Who is asking (PROTOCOL.md), over real sockets with loopback no longer
# trusted: SIP digest with SHA-256 and MD5 (test/lib/sipclient.py) and MD5
# from SIPp's [authentication]; in-dialog requests need no new challenge; a wrong
# password and an unknown user get the same 403; a stale nonce gets
# stale=true; a replayed nonce count gets a new challenge; a PAI is
# ignored from 127.0.0.1 and honoured from the trusted peer 127.0.0.2.
# Nothing is stored for what was refused.
. "$(dirname "$0")/../lib/e2e.sh"
NONCE_LIFETIME=10
db_fresh
tv_config_digest
cat >>"$E2E_DIR/tvspace.conf" <<CONF
nonce_lifetime = $NONCE_LIFETIME
CONF
tv_start

# The Python client's cases.
python3 "$SRC/test/lib/auth_cases.py" "$SIP_PORT" "$NONCE_LIFETIME" |
	tee "$E2E_DIR/cases.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "auth_cases.py"

# dave with MD5 from SIPp, which reads only the first challenge and knows
# only MD5: the server offers MD5 first now.  SIPp runs on 127.0.0.5: any
# loopback address but the trusted peer's is an ordinary source here.
tv_stop
echo "digest_algorithms = MD5, SHA-256" >>"$E2E_DIR/tvspace.conf"
tv_start
sipp -sf "$SCEN/auth_host_start.xml" -m 1 -nostdin -i 127.0.0.5 -p 5091 \
	-key user dave -key target share -au dave -ap tvspace -d 500 \
	-timeout 30s -timeout_error -trace_err \
	-error_file "$E2E_DIR/md5.errors" -trace_msg \
	-message_file "$E2E_DIR/md5.msg" "127.0.0.1:$SIP_PORT" \
	>"$E2E_DIR/md5.out" 2>&1 ||
	fail "dave with MD5 (sipp): $(tail -n 5 "$E2E_DIR/md5.errors" 2>/dev/null)"
grep -q "^WWW-Authenticate: Digest .*algorithm=SHA-256" "$E2E_DIR/md5.msg" ||
	fail "sipp was not offered SHA-256 too"
grep -q "^Authorization: Digest .*username=\"dave\"" "$E2E_DIR/md5.msg" ||
	fail "sipp sent no credentials"
expect_sql "select count(*) from spaces where host_user = 'dave'" 1

# What was stored: the spaces of alice (SHA-256), carol (trusted PAI), bob
# (after the stale nonce) and dave; none for mallory or the refused tries;
# two comments (the replays were refused before anything was stored).
expect_sql "select string_agg(host_user, ',' order by id) from spaces" \
	"alice,carol,bob,dave"
expect_sql "select count(*) from spaces where state <> 'ended'" 0
expect_sql "select string_agg(body, '|' order by id) from comments" \
	"first comment|second comment"
expect_sql "select count(*) from members where user_id = 'mallory'" 0
grep -q "digest: authentication failed from 127.0.0.1 for user mallory" \
	"$E2E_DIR/tvspaced.log" ||
	fail "the failed authentication is not logged"
if grep -q "tvspace\"" "$E2E_DIR/tvspaced.log"; then
	fail "a password made it to the log"
fi
e2e_finish
