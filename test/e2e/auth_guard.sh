#!/usr/bin/env bash
# Password guessing is limited per user (issue 19, item 6): a source
# guessing alice's password, reusing one nonce, is refused with 503 and
# Retry-After after auth_failures (3) wrong guesses, from any address,
# fresh challenge or not, for a lockout that doubles (2 s, then 4 s, the
# most); alice's right password works after the lockout and clears the
# count; a guesser cannot lock alice out of an address she logged in from;
# tvspacectl auth-failures lists the count and auth-clear ends a lockout
# (test/lib/guess.py).  Every failure is logged in a line the fail2ban
# filter of docs/operations.md matches, with the guesser's address.
. "$(dirname "$0")/../lib/e2e.sh"
: "${TVSPACECTL:?path of the tvspacectl binary}"
db_fresh
tv_config_digest
cat >>"$E2E_DIR/tvspace.conf" <<CONF
auth_failures = 3
auth_lockout = 2
auth_lockout_max = 4
# The per-address limit is not what is tested here.
rate_limit = 1000
rate_burst = 1000
control_socket = $E2E_DIR/control.sock
log_level = info
CONF
tv_start

PYTHONPATH="$SRC/test/lib" python3 "$SRC/test/lib/guess.py" "$SIP_PORT" \
	"$TVSPACECTL -s $E2E_DIR/control.sock" | tee "$E2E_DIR/guess.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "guess.py"

# The fail2ban filter of docs/operations.md, as fail2ban reads it (<HOST>
# an address): every failure and refusal, with the guesser's address.
sed -n 's/^ *failregex = //p' "$SRC/docs/operations.md" >"$E2E_DIR/failregex"
[ -s "$E2E_DIR/failregex" ] || die "no failregex in docs/operations.md"
python3 - "$E2E_DIR/failregex" "$E2E_DIR/tvspaced.log" <<'PY' ||
import re, sys
rx = open(sys.argv[1]).read().strip()
rx = re.compile(rx.replace("<HOST>", r"(?P<host>[0-9A-Fa-f.:]+)"))
hosts = {}
for line in open(sys.argv[2], errors="replace"):
    m = rx.search(line)
    if m:
        hosts[m.group("host")] = hosts.get(m.group("host"), 0) + 1
print("fail2ban filter matches:", hosts)
sys.exit(0 if hosts.get("127.0.0.6", 0) >= 10 and "127.0.0.7" in hosts
         and set(hosts) <= {"127.0.0.6", "127.0.0.7", "127.0.0.8",
                            "127.0.0.9"} else 1)
PY
	fail "the fail2ban filter does not find the guessers"
grep -q "digest: authentication refused from 127.0.0.6 for user alice" \
	"$E2E_DIR/tvspaced.log" || fail "no refusal logged"
e2e_finish
