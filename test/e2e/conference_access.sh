#!/usr/bin/env bash
# Who reads a space's room state (RFC 4575 SUBSCRIBE): with an IMS proxy
# as the trusted peer (127.0.0.2), its P-Asserted-Identity is the user, so
# a signed-in user behind the proxy who is not in the space gets 403, not
# the room; members and waiting joiners get it; a digest user at the
# peer's address is that user too (test/lib/subscribe_access.py).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_config_digest
echo "rate_limit = 0" >>"$E2E_DIR/tvspace.conf"
tv_start

PYTHONPATH="$SRC/test/lib" python3 "$SRC/test/lib/subscribe_access.py" \
	"$SIP_PORT" | tee "$E2E_DIR/access.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "subscribe access"
grep "^subscribe access:" "$E2E_DIR/access.out" || fail "no summary"
e2e_finish
