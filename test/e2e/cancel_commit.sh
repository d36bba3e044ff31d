#!/usr/bin/env bash
# A start and a join CANCELled while their commit is held up (issue 19,
# item 8): another session locks the table the commit writes (psql, for
# 2 s); the CANCEL gets 200 and the INVITE 487 at once, and when the lock
# goes the commit that lands is undone: no space of the start, no row of
# the joiner, ever a 200.  A restart (SIGKILL, then start) restores the
# one real space and nothing of the cancelled ones.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" "$CONN" <<'PY' ||
import re, subprocess, sys, time
from sipparty import Party, sdp, pump, sql_on, Checks

port, conn = int(sys.argv[1]), sys.argv[2]
sql = sql_on(conn)
check = Checks()

def hold(table, seconds=2):
    """Another session holds @a table locked for @a seconds."""
    p = subprocess.Popen(["psql", conn, "-XAtqc",
                          "BEGIN; LOCK TABLE %s; SELECT pg_sleep(%d); "
                          "COMMIT" % (table, seconds)],
                         stdout=subprocess.DEVNULL)
    for _ in range(100):
        if sql("select count(*) from pg_locks l join pg_class c on "
               "c.oid = l.relation where c.relname = '%s' and l.granted "
               "and l.mode = 'AccessExclusiveLock'" % table) == "1":
            return p
        time.sleep(0.02)
    raise RuntimeError("no lock on " + table)

def waiting():
    return int(sql("select count(*) from pg_stat_activity where datname "
                   "= current_database() and wait_event_type = 'Lock'"))

def cancel_held(party, target, table):
    locker = hold(table)
    party.send_invite(target, sdp())
    party.wait(lambda: waiting() > 0, 1.5, "the commit waits on the lock")
    party.wait(lambda: party.provisional, 1, "100 Trying")
    party.cancel()
    c = party.cancel_answer(1)
    party.wait(lambda: party.invite_final is not None, 1, "487")
    still = waiting() > 0
    check("%s: CANCEL answered %d, INVITE %r, the commit still held (%s)"
          % (party.user, c.status, party.invite_final, still),
          c.status == 200 and party.invite_final.status == 487 and still)
    locker.wait()
    pump([party], 0.5)
    check("%s: never a 200" % party.user,
          party.invite_final.status == 487 and party.n_ok == 0)

alice = Party(port, "alice")
cancel_held(alice, "share", "spaces")
check("the cancelled start left no space and no row",
      sql("select count(*) from spaces") == "0" and
      sql("select count(*) from members") == "0")

carol = Party(port, "carol")
r = carol.invite("share", sdp())
check("carol starts a space: %r" % r, r.status == 200)
sid = re.search(r"space-(\d+)@", r.get("contact")).group(1)
check("/open", carol.message("/open").status == 200)
dave = Party(port, "dave")
cancel_held(dave, "space-" + sid, "members")
check("the cancelled join left no row",
      sql("select count(*) from members where user_id = 'dave'") == "0")
check("carol's space is live with carol alone",
      sql("select count(*) from spaces where state = 'live'") == "1" and
      sql("select string_agg(user_id, ',') from members where left_at "
          "is null") == "carol")
print(sid)
sys.exit(0 if check.ok else 1)
PY
	fail "the CANCEL checks"

log "restart: SIGKILL, then start"
tv_kill
tv_start
grep -q "ready: 1 live spaces" "$E2E_DIR/tvspaced.log" ||
	fail "the restart did not restore exactly one space: $(grep ready: "$E2E_DIR/tvspaced.log" | tail -n 1)"
expect_sql "select count(*) from spaces where host_user = 'alice'" 0
expect_sql "select count(*) from members where user_id in ('alice', 'dave')" 0
e2e_finish
