#!/usr/bin/env bash
# What the SDP and the headers of a start or a join may say, and what the
# server answers (docs/sip-interface.md "Start a space", "Join a space"):
#  - OPTIONS to the factory (capabilities) and to a space (its SDP, the
#    focus Contact, Allow-Events: conference) and to no space (404);
#  - an INVITE without an offer: the server offers the channel in its 200,
#    the terminal answers in the ACK (RFC 3264 §5), a start and a join;
#  - RFC 3264 §6.2: a multicast offer of another group than the channel is
#    answered with that stream refused (port 0 at the offered group), then
#    the channel comes in a re-INVITE after the ACK; a start and a join;
#  - the service named by a=bc_service at session level, P-Preferred-
#    Service (RFC 6050), P-Service-Default-ID; another user's: 403;
#  - the channel named by a=tvspace-channel (and the old a=bc_channel),
#    multicast asked by a=tvspace-delivery;
#  - a recvonly relay offer with telephone-event: a sendonly answer without
#    telephone-event (RFC 3264 §6.1);
#  - the deny list (RFC 6501): a member removed by /kick gets 403 when it
#    asks again, until /unban; the others are told "bob left".
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
MEMBER_NOTICES=yes tv_config
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" <<'PY' ||
import re, sys, time
from sipclient import Client, rand
from sipparty import Party, sdp, pump

port = int(sys.argv[1])
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond

def attr(body, name):
    m = re.search(r"^a=%s:(.*?)\r?$" % re.escape(name), body, re.M)
    return m.group(1) if m else None

def conn(body):
    m = re.search(r"^c=IN IP4 ([0-9.]+)", body, re.M)
    return m.group(1) if m else None

def mline(body):
    m = re.search(r"^m=(\w+) (\d+) RTP/AVP ([0-9 ]+)\r?$", body, re.M)
    return (m.group(1), int(m.group(2)), m.group(3).split()) if m else None

def options(target):
    c = Client(("127.0.0.1", port))
    text, branch = c.request("OPTIONS", "sip:%s@127.0.0.1:%d" %
                             (target, port), call_id=rand(),
                             from_tag=rand(4))
    r = c.transact(text, branch)
    c.close()
    return r

def plain(group="232.10.0.1", extra_session=(), extra_media=(), port_=5004):
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-"]
    lines += list(extra_session)
    lines += ["c=IN IP4 %s/16" % group, "t=0 0",
              "m=video %d RTP/AVP 33" % port_, "a=rtpmap:33 MP2T/90000"]
    lines += list(extra_media) + ["a=recvonly"]
    return "\r\n".join(lines) + "\r\n"

def reinvites(p):
    return [r for t, r in p.requests("INVITE")]

# -- OPTIONS --------------------------------------------------------------
r = options("share")
check("OPTIONS to the factory: 200 %r" % r, r.status == 200)
check("... Allow lists INVITE, REFER, SUBSCRIBE: %s" % r.get("allow"),
      all(m in r.get("allow") for m in ("INVITE", "REFER", "SUBSCRIBE")))
accept = [t.strip() for t in r.get("accept").split(",")]
check("... Accept lists application/sdp, text/plain, application/dtmf-relay"
      " once each: %s" % accept,
      sorted(accept) == ["application/dtmf-relay", "application/sdp",
                         "text/plain"])
r = options("space-9")
check("OPTIONS to a space that does not exist: 404 %r" % r, r.status == 404)

# -- an INVITE without an offer: a start -----------------------------------
alice = Party(port, "alice")
alice.ack_sdp = sdp(group="232.10.0.1")
r = alice.invite("share", "")
check("alice starts with no offer: 200 %r" % r, r.status == 200)
check("... the 200 offers news' group 232.10.0.1:5004 (%s)" % conn(r.body),
      conn(r.body) == "232.10.0.1" and mline(r.body)[1] == 5004)
check("... and names it: a=tvspace-channel:%s" % attr(r.body, "tvspace-channel"),
      attr(r.body, "tvspace-channel") == "news")
check("... Allow-Events: conference (%s)" % r.get("allow-events"),
      "conference" in r.get("allow-events"))
check("... the focus Contact (%s)" % r.get("contact"),
      "space-1@" in r.get("contact") and "isfocus" in r.get("contact"))

r = options("space-1")
check("OPTIONS to space-1: 200 with its SDP %r" % r,
      r.status == 200 and conn(r.body) == "232.10.0.1")
check("... and the focus Contact (%s)" % r.get("contact"),
      "space-1@" in r.get("contact") and "isfocus" in r.get("contact"))
check("/open", alice.message("/open").status == 200)

# -- a join with no offer ---------------------------------------------------
bob = Party(port, "bob")
bob.ack_sdp = sdp(group="232.10.0.1")
r = bob.invite("space-1", "")
check("bob joins with no offer: 200 %r" % r, r.status == 200 and
      conn(r.body) == "232.10.0.1")

# -- RFC 3264 §6.2: a join offering another group --------------------------
carol = Party(port, "carol")
r = carol.invite("space-1", plain(group="232.10.0.2"))
check("carol offers sports' group to a space on news: 200 %r" % r,
      r.status == 200)
ml = mline(r.body)
check("... the answer refuses that stream: port 0 at 232.10.0.2 (%s, %s)"
      % (conn(r.body), ml), conn(r.body) == "232.10.0.2" and ml[1] == 0)
carol.wait(lambda: reinvites(carol), 5, "the re-INVITE with the channel")
body = reinvites(carol)[0].body
check("... then a re-INVITE offers news: %s:%d" % (conn(body),
      mline(body)[1]), conn(body) == "232.10.0.1" and mline(body)[1] == 5004)

# -- the deny list and the notices -----------------------------------------
n = len(alice.messages())
check("/kick carol", alice.message("/kick carol").status == 200)
carol.wait(lambda: carol.requests("BYE"), 5, "carol's BYE")
carol2 = Party(port, "carol")
r = carol2.invite("space-1", plain())
check("carol asks again: 403 'removed from this space by the host' %r" % r,
      r.status == 403 and "removed from this space" in r.warning())
check("/unban carol", alice.message("/unban carol").status == 200)
carol3 = Party(port, "carol")
r = carol3.invite("space-1", plain())
check("after /unban carol comes in: %r" % r, r.status == 200)
check("carol hangs up", carol3.bye().status == 200)
alice.wait(lambda: any("carol left" in m for m in alice.messages()[n:]), 3,
           "the notice 'carol left'")
check("alice is told 'carol left': %s" % alice.messages()[n:], True)
bob.wait(lambda: any("carol left" in m for m in bob.messages()), 3,
         "bob's notice")
check("bob is told too", True)

# -- RFC 3264 §6.2 at a start, the channel by a=tvspace-channel ------------
dave = Party(port, "dave")
r = dave.invite("share", plain(group="232.99.0.1",
                               extra_media=("a=tvspace-channel:sports",)))
ml = mline(r.body) if r.status == 200 else None
check("dave starts offering a group of no channel, naming sports: %r" % r,
      r.status == 200 and conn(r.body) == "232.99.0.1" and ml[1] == 0)
dave.wait(lambda: reinvites(dave), 5, "the re-INVITE with sports")
body = reinvites(dave)[0].body
check("... then sports comes in a re-INVITE (%s)" % conn(body),
      conn(body) == "232.10.0.2" and attr(body, "tvspace-channel") == "sports")

# -- the service by header and by a=bc_service -----------------------------
erin = Party(port, "erin")
r = erin.invite("share", plain(extra_session=("a=bc_service:svc-bob",)))
check("erin names bob's service by a=bc_service: 403 %r" % r,
      r.status == 403 and "not subscribed" in r.warning())
bob2 = Party(port, "bob")
bob2.ack_sdp = sdp(group="232.10.0.2")
r = bob2.invite("share", "", extra=("P-Preferred-Service: svc-bob-premium",))
check("bob starts on svc-bob-premium by P-Preferred-Service: %r" % r,
      r.status == 200 and attr(r.body, "tvspace-channel") == "sports")
frank = Party(port, "frank")
r = frank.invite("share", plain(group="232.10.0.4"),
                 extra=("P-Service-Default-ID: svc-alice",))
check("frank names alice's service by P-Service-Default-ID: 403 %r" % r,
      r.status == 403)
erin2 = Party(port, "erin")
r = erin2.invite("share", plain(group="0.0.0.0",
                                extra_session=("a=bc_service:svc-erin",),
                                extra_media=("a=bc_channel:movies",
                                             "a=bc_delivery:multicast")))
check("erin: the old a=bc_channel and a=bc_delivery still work: %r" % r,
      r.status == 200 and conn(r.body) == "232.10.0.3")

# -- a recvonly relay offer with telephone-event ----------------------------
frank2 = Party(port, "frank")
offer = "\r\n".join(["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-",
                     "c=IN IP4 127.0.0.1", "t=0 0",
                     "m=audio 40100 RTP/AVP 0 101",
                     "a=rtpmap:0 PCMU/8000",
                     "a=rtpmap:101 telephone-event/8000",
                     "a=recvonly"]) + "\r\n"
r = frank2.invite("share", offer)
check("frank starts music as a relay member, recvonly: %r" % r,
      r.status == 200)
check("... the answer is sendonly", "a=sendonly" in r.body)
check("... without telephone-event (%s)" % mline(r.body)[2],
      mline(r.body)[2] == ["0"] and "telephone-event" not in r.body)

for p in (bob, alice, dave, bob2, erin2, frank2):
    r = p.bye()
    check("%s hangs up: %r" % (p.user, r), r.status in (200, 481))
sys.exit(0 if ok else 1)
PY
	fail "the offer/answer checks"
wait_for "select count(*) from spaces where state = 'live'" 0
expect_sql "select count(*) from members where left_at is null" 0
e2e_finish
