#!/usr/bin/env python3
"""Writes the SIPp scenarios of tvspace's end-to-end tests (test/sipp/*.xml).

The scenarios share their SIP framing (headers, SDP offer, in-dialog
requests), so they are generated from this one file to stay consistent; the
XML files are committed so QA can read and run them without Python.
Run it from this folder after changing it: ./gen_scenarios.py

Keys every scenario takes (sipp -key NAME VALUE): user (the caller's user
part, trusted from loopback in the test configuration), target (the
Request-URI user: share, space-N).  How long a party watches before its
next step ([hold] in the descriptions) is sipp's -d MS, the length of a
<pause/>.
"""

HDR_UAC = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]i[call_number]
From: <sip:[user]@[local_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[target]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70"""

INVITE = """  <send retrans="500">
    <![CDATA[

      INVITE sip:[target]@[remote_ip]:[remote_port] SIP/2.0
      %s
      CSeq: 1 INVITE
      Subject: tvspace %s
      %sContent-Type: application/sdp
      Content-Length: [len]

      v=0
      o=[user] 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP4 %s
      t=0 0
%s      m=video 5004 RTP/AVP 33
      a=rtpmap:33 MP2T/90000
      a=recvonly

    ]]>
  </send>
"""


def indent(s, n=6):
    return ("\n" + " " * n).join(s.split("\n"))


def invite(what, caddr="232.10.0.1/16", extra_hdr="", sdp_attrs=(),
           mline=None):
    hdr = "".join("%s\n      " % h for h in ([extra_hdr] if extra_hdr else []))
    attrs = "".join("      a=%s\n" % a for a in sdp_attrs)
    text = INVITE % (indent(HDR_UAC), what, hdr, caddr, attrs)
    if mline:
        text = text.replace("m=video 5004 RTP/AVP 33\n      a=rtpmap:33 MP2T/90000\n      a=recvonly",
                            mline)
    return text


# ACK for a 2xx: a new transaction along the dialog's route (RFC 3261 13.2.2.4)
ACK = """  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[user]@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[target]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

# ACK for a non-2xx: part of the INVITE transaction (RFC 3261 17.1.1.3)
ACK_ERR = """  <send>
    <![CDATA[

      ACK sip:[target]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]i[call_number]
      From: <sip:[user]@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""


def indialog(method, cseq, body=None, ctype="text/plain", extra=()):
    """A request inside our dialog: routed, with the peer's tag."""
    hdrs = "".join("%s\n      " % h for h in extra)
    if body is not None:
        hdrs += "Content-Type: %s\n      " % ctype
    return """  <send retrans="500">
    <![CDATA[

      %s [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[user]@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[target]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: %d %s
      Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      %sContent-Length: [len]

      %s
    ]]>
  </send>
""" % (method, cseq, method, hdrs, body or "")


OK_TO_REQ = """  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
"""

OK_REINVITE = """  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=[user] 1 2 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP4 232.10.0.1/16
      t=0 0
      m=video 5004 RTP/AVP 33
      a=rtpmap:33 MP2T/90000
      a=recvonly

    ]]>
  </send>
"""


def answer_200(group="232\\.10\\.0\\.1"):
    """200 to our INVITE: the focus Contact and the channel's SDP."""
    return """  <recv response="200" rrs="true">
    <action>
      <ereg regexp="&lt;sip:space-[0-9]+@[^&gt;]+&gt;;isfocus" search_in="hdr" header="Contact:" check_it="true" assign_to="contact"/>
      <ereg regexp="c=IN IP4 %s/16" search_in="body" check_it="true" assign_to="cline"/>
      <ereg regexp="m=video 5004 RTP/AVP 33" search_in="body" check_it="true" assign_to="mline"/>
      <ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="dir"/>
    </action>
  </recv>
""" % group


def expect_message(regexp, var):
    return """  <recv request="MESSAGE">
    <action>
      <ereg regexp="%s" search_in="body" check_it="true" assign_to="%s"/>
    </action>
  </recv>
""" % (regexp, var) + OK_TO_REQ


def final(code, warning):
    return """  <recv response="%d">
    <action>
      <ereg regexp="399 [^ ]+ &quot;[^&quot;]*%s" search_in="hdr" header="Warning:" check_it="true" assign_to="warn"/>
    </action>
  </recv>
""" % (code, warning)


def bye(cseq):
    return indialog("BYE", cseq) + '  <recv response="200"/>\n'


def expect_bye(reason):
    return """  <recv request="BYE">
    <action>
      <ereg regexp="%s" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/>
    </action>
  </recv>
""" % reason + OK_TO_REQ


def command(cseq, text):
    return indialog("MESSAGE", cseq, text) + '  <recv response="200"/>\n'


HOLD = '  <pause/>\n'
PROV = '  <recv response="100" optional="true"/>\n'
RING = '  <recv response="180"/>\n'
JOINREQ = expect_message("join request ([0-9]+) from [a-z]+", "n,n1")
ANS = ("contact", "cline", "mline", "dir")
ENDED = "cause=200;text=.space ended by host"


_names = set()
_pack = []  # (name, description) for README.md


# The server tells members what happens in the room by MESSAGE ("bob
# left", "carol holds the remote now").  A scenario waits for the ones its
# test is about; any other one that comes meanwhile (while it pauses, say)
# gets its 200 here and the scenario goes on where it was, its pause
# included: SIPp jumps to the label _unexp.main on an unexpected message.
# It stands after the scenario's last step, which jumps over it to the end.
# (The server sends these at most one a second per space, so one is
# answered before the next comes.)
UNEXPECTED_MESSAGE = """  <nop next="end"/>
  <label id="_unexp.main"/>
  <recv request="MESSAGE"/>
""" + OK_TO_REQ.replace("[user]@", "") + """  <nop>
    <action>
      <pauserestore variable="_unexp.pausedaddr"/>
      <jump variable="_unexp.retaddr"/>
      <assign assign_to="_unexp.retaddr" value="0"/>
    </action>
  </nop>
  <label id="end"/>
"""


def scenario(name, desc, body, refs=()):
    assert name not in _names, "scenario %s defined twice" % name
    _names.add(name)
    _pack.append((name, desc))
    if body.lstrip().startswith("<send") and "_unexp.main" not in body:
        body += UNEXPECTED_MESSAGE
    x = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- %s
     Generated by gen_scenarios.py. -->
<scenario name="%s">
%s""" % (desc, name, body)
    if refs:
        x += '  <Reference variables="%s"/>\n' % ",".join(refs)
    x += """  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000"/>
</scenario>
"""
    with open(name + ".xml", "w") as f:
        f.write(x)


START = invite("start") + PROV + answer_200() + ACK

# -- hosts ------------------------------------------------------------------
scenario("host_start",
         "Host: start a space on the offered channel, watch [hold] ms, end it with BYE.",
         START + HOLD + bye(2), ANS)
scenario("host_allow",
         "Host: start a space, /allow the first join request, watch [hold] ms, BYE.",
         START + JOINREQ + command(2, "/allow [$n1]") + HOLD + bye(3),
         ANS + ("n",))
scenario("host_deny",
         "Host: start a space, /deny the first join request, watch [hold] ms, BYE.",
         START + JOINREQ + command(2, "/deny [$n1]") + HOLD + bye(3),
         ANS + ("n",))
scenario("host_ignore",
         "Host: start a space, leave the join request unanswered until the server says it expired, BYE.",
         START + JOINREQ +
         expect_message("join request [0-9]+ from [a-z]+ expired", "exp") +
         bye(2), ANS + ("n", "n1", "exp"))
scenario("host_withdrawn",
         "Host: start a space, see the join request withdrawn by the joiner's CANCEL, BYE.",
         START + JOINREQ +
         expect_message("join request [0-9]+ from [a-z]+ was withdrawn", "wd") +
         bye(2), ANS + ("n", "n1", "wd"))
scenario("host_open",
         "Host: start a space, /open it (joiners come in unasked), watch [hold] ms, BYE.",
         START + command(2, "/open") + HOLD + bye(3), ANS)
scenario("host_end_cmd",
         "Host: start, /allow a join, watch [hold] ms, then /end: the server BYEs everyone, the host too.",
         START + JOINREQ + command(2, "/allow [$n1]") + HOLD +
         command(3, "/end") + expect_bye(ENDED), ANS + ("n", "reason"))
scenario("host_resume",
         "Host: start, /allow a join; after the server restarts, answer its re-INVITE (same channel), watch [hold] ms, BYE.",
         START + JOINREQ + command(2, "/allow [$n1]") +
         """  <recv request="INVITE" timeout="30000">
    <action>
      <ereg regexp="c=IN IP4 232\\.10\\.0\\.1/16" search_in="body" check_it="true" assign_to="rc"/>
    </action>
  </recv>
""" + OK_REINVITE + '  <recv request="ACK"/>\n' + HOLD + bye(3),
         ANS + ("n", "rc"))
scenario("host_not_subscribed",
         "Starter: name a service that is not the caller's: 403 with a Warning.",
         invite("start", extra_hdr="P-Service-Default-ID: svc-bob") + PROV +
         final(403, "not subscribed") + ACK_ERR, ("warn",))
scenario("host_unknown_channel",
         "Starter: ask for a channel the lineup does not have: 488 with a Warning.",
         invite("start", caddr="192.0.2.1",
                sdp_attrs=("bc_channel:nosuch", "bc_delivery:multicast")) +
         PROV + final(488, "unknown channel") + ACK_ERR, ("warn",))
scenario("host_bc_channel",
         "Starter: a set-top box naming its channel and delivery with a=bc_channel and a=bc_delivery; watch [hold] ms, BYE.",
         invite("start", caddr="192.0.2.1",
                sdp_attrs=("bc_channel:sports", "bc_delivery:multicast")) +
         PROV + answer_200("232\\.10\\.0\\.2") + ACK + HOLD + bye(2), ANS)

# -- guests -----------------------------------------------------------------
JOIN = invite("join") + PROV
scenario("guest_join",
         "Guest: join space [target], ring until the host allows, watch [hold] ms, leave with BYE.",
         JOIN + RING + answer_200() + ACK + HOLD + bye(2), ANS)
scenario("guest_stay",
         "Guest: join space [target] after approval and stay until the host ends it (BYE with Reason).",
         JOIN + RING + answer_200() + ACK + expect_bye(ENDED),
         ANS + ("reason",))
scenario("guest_open_stay",
         "Guest: join an open space [target] (no ringing, no approval) and stay until the host ends it.",
         JOIN + answer_200() + ACK + expect_bye(ENDED), ANS + ("reason",))
scenario("guest_open_bye",
         "Guest: join an open space [target] (no ringing, no approval), watch [hold] ms, BYE.",
         JOIN + answer_200() + ACK + HOLD + bye(2), ANS)
scenario("guest_resume",
         "Guest: join [target] after approval; after the server restarts answer its re-INVITE; stay until the host ends it.",
         JOIN + RING + answer_200() + ACK +
         '  <recv request="INVITE" timeout="30000"/>\n' + OK_REINVITE +
         '  <recv request="ACK"/>\n' + expect_bye(ENDED), ANS + ("reason",))
scenario("guest_denied",
         "Guest: join [target], ring, and be declined by the host: 603 with a Warning.",
         JOIN + RING + final(603, "declined") + ACK_ERR, ("warn",))
scenario("guest_timeout",
         "Guest: join [target], ring, and time out unanswered: 480 with a Warning.",
         JOIN + RING + final(480, "did not answer") + ACK_ERR, ("warn",))
scenario("guest_full",
         "Guest: join a full space [target]: 486 at once with the Warning \"space full\".",
         JOIN + final(486, "space full") + ACK_ERR, ("warn",))
scenario("guest_unknown_space",
         "Guest: join a space that does not exist (or has ended): 404 with a Warning.",
         JOIN + final(404, "no such space") + ACK_ERR, ("warn",))
scenario("guest_cancel",
         "Guest: join [target], ring, watch [hold] ms, CANCEL: 200 to the CANCEL and 487 to the INVITE.",
         JOIN + RING + HOLD + """  <send>
    <![CDATA[

      CANCEL sip:[target]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK[pid]i[call_number]
      From: <sip:[user]@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[target]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>
""" + ACK_ERR)

# -- the remote control (issue: master control) -----------------------------


def reinvite_answer(group, var):
    """A re-INVITE re-pointing us: check the new group, answer, take ACK."""
    return """  <recv request="INVITE">
    <action>
      <ereg regexp="c=IN IP4 %s/16" search_in="body" check_it="true" assign_to="%s"/>
    </action>
  </recv>
""" % (group, var) + OK_REINVITE + '  <recv request="ACK"/>\n'


def refused_command(cseq, text, code, warning):
    return indialog("MESSAGE", cseq, text) + final(code, warning)


scenario("host_switch",
         "Host: start on news, /allow a guest, /switch sports (the server re-INVITEs everyone, the host too), /switch nosuch (400 with the Warning \"unknown channel\": inside a dialog 404 would end it, RFC 5057), BYE.",
         START + JOINREQ + command(2, "/allow [$n1]") + HOLD +
         command(3, "/switch sports") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") +
         refused_command(4, "/switch nosuch", 400, "unknown channel") +
         HOLD + bye(5), ANS + ("n", "sw", "warn"))
scenario("guest_switched",
         "Guest: join, be re-pointed to sports by the host's switch, try /switch itself (403), stay until the end.",
         JOIN + RING + answer_200() + ACK +
         reinvite_answer("232\\.10\\.0\\.2", "sw") +
         refused_command(2, "/switch movies", 403,
                         "only the host can switch") +
         expect_bye(ENDED), ANS + ("sw", "warn", "reason"))

scenario("host_handover",
         "Host: start, /allow bob, /handover bob; then as a guest /grab twice: denied, then allowed; end as host again.",
         START + JOINREQ + command(2, "/allow [$n1]") + HOLD +
         command(3, "/handover bob") +
         expect_message("bob holds the remote now", "h1") +
         command(4, "/grab") +
         expect_message("the host keeps the remote", "k") +
         command(5, "/grab") +
         expect_message("alice holds the remote now", "h2") + HOLD + bye(6),
         ANS + ("n", "h1", "k", "h2"))
scenario("guest_handover",
         "Guest bob: receives the remote, denies alice's first /grab, allows the second, stays until the end.",
         JOIN + RING + answer_200() + ACK +
         expect_message("bob holds the remote now", "h1") +
         expect_message("grab request ([0-9]+) from alice", "g,g1") +
         command(2, "/deny [$g1]") +
         expect_message("grab request ([0-9]+) from alice", "g,g2") +
         command(3, "/allow [$g2]") +
         expect_message("alice holds the remote now", "h2") +
         expect_bye(ENDED), ANS + ("h1", "g", "h2", "reason"))

scenario("host_kick",
         "Host: start, /allow bob, then /kick bob (he gets BYE), /kick nobody (400 with the Warning \"no such member\"), BYE.",
         START + JOINREQ + command(2, "/allow [$n1]") + HOLD +
         command(3, "/kick bob") +
         refused_command(4, "/kick nobody", 400, "no such member") + bye(5),
         ANS + ("n", "warn"))
scenario("guest_kicked",
         "Guest: join after approval, try /kick alice (403), then be removed by the host (BYE with Reason).",
         JOIN + RING + answer_200() + ACK +
         refused_command(2, "/kick alice", 403, "only the host") +
         expect_bye("removed by the host"), ANS + ("warn", "reason"))


def refer(cseq, refer_to):
    return indialog("REFER", cseq, extra=("Refer-To: %s" % refer_to,)) + \
        '  <recv response="202"/>\n'


def until_final_notify(tag, frag):
    """NOTIFYs of a REFER's subscription until the one carrying FRAG."""
    return """  <label id="%s_loop"/>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="%s" search_in="body" assign_to="%s"/>
    </action>
  </recv>
""" % (tag, frag, tag) + OK_TO_REQ.replace(
        "  <send>", '  <send next="%s_done" test="%s">' % (tag, tag), 1) + \
        """  <nop next="%s_loop"/>
  <label id="%s_done"/>
""" % (tag, tag)


scenario("host_refer",
         "Host: start, REFER carol into the space (RFC 4579 5.5), then REFER her out (method=BYE), BYE.",
         START + HOLD +
         refer(2, "<sip:carol@[local_ip]:[peer_port]>") +
         until_final_notify("inv", "SIP/2.0 200") + HOLD +
         refer(3, "<sip:carol@[local_ip]:[peer_port];method=BYE>") +
         until_final_notify("out", "SIP/2.0 200") + bye(4),
         ANS + ("inv", "out"))

# carol as a UAS: invited by the space, then removed
scenario("invitee",
         "Invitee (UAS): answer the space's INVITE on the channel offered, then take its BYE.",
         """  <recv request="INVITE">
    <action>
      <ereg regexp="c=IN IP4 232\\.10\\.0\\.1/16" search_in="body" check_it="true" assign_to="c"/>
      <ereg regexp="sip:space-[0-9]+@" search_in="hdr" header="From:" check_it="true" assign_to="f"/>
    </action>
  </recv>
""" + OK_REINVITE + '  <recv request="ACK"/>\n' +
         '  <recv request="BYE"/>\n' + OK_TO_REQ, ("c", "f"))

scenario("guest_leave",
         "Guest bob: join, REFER to a service that is not his (NOTIFY 403, nothing changes), REFER to his own premium service (re-pointed to sports), /switch movies in his personal session, BYE.",
         JOIN + RING + answer_200() + ACK +
         refer(2, "<sip:svc-svc-alice@tvspace.test>") +
         until_final_notify("no", "SIP/2.0 403") +
         refer(3, "<sip:svc-svc-bob-premium@tvspace.test>") +
         reinvite_answer("232\\.10\\.0\\.2", "own") +
         until_final_notify("yes", "SIP/2.0 200") +
         command(4, "/switch movies") +
         reinvite_answer("232\\.10\\.0\\.3", "mv") + HOLD + bye(5),
         ANS + ("no", "yes", "own", "mv"))

# -- comments and the room's state (issue: what a member sees) --------------


def comment(cseq, text):
    return indialog("MESSAGE", cseq, text) + '  <recv response="200"/>\n'


LONG = "x" * 1100

scenario("host_comments",
         "Host: start, /allow bob, read his comment (text/plain 'bob: ...'), comment back, end after [hold] ms.",
         START + JOINREQ + command(2, "/allow [$n1]") +
         expect_message("^bob: hello all", "c1") +
         comment(3, "welcome bob") + HOLD + bye(4), ANS + ("n", "c1"))

JOIN_CPIM = invite("join", extra_hdr="Accept: application/sdp, message/cpim, text/plain") + PROV
scenario("guest_comments",
         "Guest bob (Accept: message/cpim): comment, read the host's answer as message/cpim, send a comment over max_body (413), stay until the end.",
         JOIN_CPIM + RING + answer_200() + ACK + comment(2, "hello all") +
         """  <recv request="MESSAGE">
    <action>
      <ereg regexp="message/cpim" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>
      <ereg regexp="From: alice &lt;sip:alice@" search_in="body" check_it="true" assign_to="cf"/>
      <ereg regexp="welcome bob" search_in="body" check_it="true" assign_to="cb"/>
    </action>
  </recv>
""" + OK_TO_REQ + indialog("MESSAGE", 3, LONG) +
         final(413, "at most 1024 bytes") + expect_bye(ENDED),
         ANS + ("ct", "cf", "cb", "warn", "reason"))

# A MESSAGE outside any dialog, to the space URI.
STRAY = """  <send retrans="500">
    <![CDATA[

      MESSAGE sip:[target]@[remote_ip]:[remote_port] SIP/2.0
      %s
      CSeq: 1 MESSAGE
      Content-Type: text/plain
      Content-Length: [len]

      a word from outside
    ]]>
  </send>
""" % indent(HDR_UAC)
scenario("stray_comment_refused",
         "A non-member's MESSAGE to the space URI: 403.",
         STRAY + final(403, "not a member"), ("warn",))


def subscribe(expires):
    return """  <send retrans="500">
    <![CDATA[

      SUBSCRIBE sip:[target]@[remote_ip]:[remote_port] SIP/2.0
      %s
      CSeq: 1 SUBSCRIBE
      Event: conference
      Accept: application/conference-info+xml
      Expires: %d
      Content-Length: 0

    ]]>
  </send>
""" % (indent(HDR_UAC), expires)


def notify(regexps, var):
    acts = "".join(
        '      <ereg regexp="%s" search_in="%s" check_it="true" assign_to="%s"/>\n'
        % (r, where, var) for r, where in regexps)
    return """  <recv request="NOTIFY">
    <action>
%s    </action>
  </recv>
""" % acts + OK_TO_REQ


scenario("subscriber",
         "A member watches the room (RFC 4575): SUBSCRIBE to the space, a full NOTIFY with two users, one after the switch to sports, and the last (deleted, terminated) when the host ends.",
         subscribe(600) + '  <recv response="200" rrs="true"/>\n' +
         notify((("&lt;user-count&gt;2&lt;/user-count&gt;", "body"),
                 ("&lt;entry&gt;host&lt;/entry&gt;", "body"),
                 ('tv:channel id=.news.', "body"),
                 ("application/conference-info\\+xml", "msg")), "n1") +
         notify((('tv:channel id=.sports.', "body"),
                 ('version=.2.', "body")), "n2") +
         notify((('state=.deleted.', "body"),
                 ("terminated", "msg")), "n3"),
         ("n1", "n2", "n3"))
scenario("subscriber_refused",
         "A non-member's SUBSCRIBE to the room: 403.",
         subscribe(600) + final(403, "not a member"), ("warn",))


def ci(s):
    """A regexp of conference-info text, as a SIPp attribute: quotes
    match any character, markup is escaped."""
    return s.replace('"', ".").replace("<", "&lt;").replace(">", "&gt;")


TV_NS = "urn:uuid:8a7896b9-8a0b-45bd-aa8f-c66ad19abc2f"
scenario("subscriber_partial",
         "The host watches its open room (RFC 4575): SUBSCRIBE, the full NOTIFY (alice alone); partial ones: bob came (his whole user), bob left (disconnected, departed), carol came and bob is deleted; the last one (deleted, terminated;reason=noresource) when the space ends.",
         subscribe(600) +
         """  <recv response="200" rrs="true">
    <action>
      <ereg regexp="conference" search_in="hdr" header="Allow-Events:" check_it="true" assign_to="ae"/>
      <ereg regexp="&lt;sip:space-[0-9]+@[^&gt;]+&gt;;isfocus" search_in="hdr" header="Contact:" check_it="true" assign_to="ae"/>
    </action>
  </recv>
""" +
         notify(((ci('state="full" version="1"'), "body"),
                 (ci("<user-count>1</user-count>"), "body"),
                 (ci("<maximum-user-count>4</maximum-user-count>"), "body"),
                 (ci("<purpose>participation</purpose>"), "body"),
                 (ci('<tv:space xmlns:tv="%s" id="[0-9]+" open="true"'
                     % TV_NS), "body"),
                 (ci('<user entity="sip:alice@tvspace.test" state="full">'
                     "<display-text>Alice</display-text><roles><entry>"
                     "host</entry>"), "body")), "n1") +
         notify(((ci('state="partial" version="2"'), "body"),
                 (ci('<users state="partial"><user entity='
                     '"sip:bob@tvspace.test" state="full"><display-text>'
                     "Bob</display-text><roles><entry>guest</entry>"
                     '</roles><endpoint entity="sip:bob@tvspace.test">'
                     "<status>connected</status></endpoint></user>"
                     "</users>"), "body"),
                 (ci("<user-count>2</user-count>"), "body")), "n2") +
         notify(((ci('state="partial" version="3"'), "body"),
                 (ci('<user entity="sip:bob@tvspace.test" state="partial">'
                     '<endpoint entity="sip:bob@tvspace.test" '
                     'state="partial"><status>disconnected</status>'
                     "<disconnection-method>departed"
                     "</disconnection-method><disconnection-info><when>"),
                  "body"),
                 (ci("<user-count>1</user-count>"), "body")), "n3") +
         notify(((ci('state="partial" version="4"'), "body"),
                 (ci('<user entity="sip:carol@tvspace.test" state="full">'
                     "<display-text>Carol</display-text>"), "body"),
                 (ci('<user entity="sip:bob@tvspace.test" '
                     'state="deleted"/>'), "body")), "n4") +
         notify(((ci('state="deleted" version="5"'), "body"),
                 ("terminated;reason=noresource", "msg")), "n5"),
         ("ae", "n1", "n2", "n3", "n4", "n5"))

# -- quotas ------------------------------------------------------------------
scenario("host_quota",
         "Host on a service with a few seconds a day left: warned as the limit nears, then the space ends with Reason 'daily limit reached'.",
         START +
         expect_message("4 seconds of playback left today", "w1") +
         expect_message("2 seconds of playback left today", "w2") +
         expect_bye("text=.daily limit reached"),
         ANS + ("w1", "w2", "reason"))
scenario("host_over_quota",
         "Starter whose service has nothing left today: 403 with a Warning.",
         invite("start") + PROV + final(403, "daily limit reached") + ACK_ERR,
         ("warn",))
scenario("host_resume_alone",
         "Host alone: start; after the server restarts, answer its re-INVITE (same channel), watch [hold] ms, BYE.",
         START + """  <recv request="INVITE" timeout="30000"/>
""" + OK_REINVITE + '  <recv request="ACK"/>\n' + HOLD + bye(2), ANS)
scenario("subscriber_once",
         "A member watches the room until it ends: SUBSCRIBE, the full NOTIFY (with the guide's programme), then the last one (deleted).",
         subscribe(600) + '  <recv response="200" rrs="true"/>\n' +
         notify((("state=.full.", "body"), ("tv:program title=", "body")),
                "n1") +
         notify((('state=.deleted.', "body"),), "n2"),
         ("n1", "n2"))
scenario("host_open_comment",
         "Host: start, /open the space, say something, watch [hold] ms, BYE.",
         START + command(2, "/open") + comment(3, "before you came") + HOLD +
         bye(4), ANS)
scenario("guest_history",
         "Guest joining an open space: receives the comments made before it came, then stays until the end.",
         JOIN + answer_200() + ACK +
         expect_message("^carol: before you came", "h") + expect_bye(ENDED),
         ANS + ("h", "reason"))

UNSUBSCRIBE = indialog("SUBSCRIBE", 2,
                       extra=("Event: conference", "Expires: 0"))
scenario("subscriber_leaves",
         "A member SUBSCRIBEs to the room, gets the full NOTIFY, then un-subscribes (Expires: 0): 200 and a last NOTIFY with the subscription terminated.",
         subscribe(600) + '  <recv response="200" rrs="true"/>\n' +
         notify((("state=.full.", "body"),), "n1") + UNSUBSCRIBE +
         """  <recv response="200"/>
""" + notify((("terminated", "msg"),), "n2"), ("n1", "n2"))


# -- relay delivery (a softphone-like member, RTP from the server) ---------
AUDIO = "m=audio [rtp_port] RTP/AVP 0 8\n      a=rtpmap:0 PCMU/8000\n      a=rtpmap:8 PCMA/8000"


def relay_200():
    return """  <recv response="200" rrs="true">
    <action>
      <ereg regexp="c=IN IP4 127\\.0\\.0\\.1" search_in="body" check_it="true" assign_to="rc"/>
      <ereg regexp="m=audio [0-9]+ RTP/AVP 0" search_in="body" check_it="true" assign_to="rm"/>
      <ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="rd"/>
    </action>
  </recv>
"""


scenario("host_relay",
         "Host with a unicast audio offer (relay): start on music, let a guest in, /switch kids after [hold] ms (no re-INVITE: the relay changes source), BYE after [hold] ms more.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:music",),
                mline=AUDIO) + PROV + relay_200() + ACK + JOINREQ +
         command(2, "/allow [$n1]") + HOLD + command(3, "/switch kids") +
         HOLD + bye(4), ("rc", "rm", "rd", "n"))
scenario("guest_relay",
         "Guest with a unicast audio offer (relay): joins after approval and stays until the host ends the space.",
         invite("join", caddr="127.0.0.1", mline=AUDIO) + PROV + RING +
         relay_200() + ACK + expect_bye(ENDED), ("rc", "rm", "rd", "reason"))

# -- re-pointing faults (test/e2e/repoint_faults.sh) ------------------------
def reinvite_refused(code, reason):
    """A re-INVITE to the new group answered with an error, and its ACK."""
    return """  <recv request="INVITE">
    <action>
      <ereg regexp="c=IN IP4 232\\.10\\.0\\.2/16" search_in="body" check_it="true" assign_to="sw0"/>
    </action>
  </recv>
""" + OK_TO_REQ.replace("200 OK", "%d %s" % (code, reason)) + \
        '  <recv request="ACK"/>\n'


OPEN_JOIN = invite("join") + PROV + answer_200() + ACK
scenario("host_switch_open",
         "Host: start on news, /open, let guests in for 3 s, /switch sports, answer its re-INVITE, watch [hold] ms, BYE.",
         START + command(2, "/open") + '  <pause milliseconds="3000"/>\n' +
         command(3, "/switch sports") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + HOLD + bye(4),
         ANS + ("sw",))
scenario("guest_open_switched",
         "Guest: join an open space, be re-pointed to sports, stay until the end.",
         OPEN_JOIN + reinvite_answer("232\\.10\\.0\\.2", "sw") +
         expect_bye(ENDED), ANS + ("sw", "reason"))
scenario("guest_glare",
         "Guest: join an open space, answer the switch's re-INVITE with 491 (glare), answer the retry 0-2 s later with 200, stay until the end.",
         OPEN_JOIN + reinvite_refused(491, "Request Pending") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + expect_bye(ENDED),
         ANS + ("sw0", "sw", "reason"))
scenario("guest_gone",
         "Guest: join an open space, answer the switch's re-INVITE with 481 (the dialog is gone here).",
         OPEN_JOIN + reinvite_refused(481, "Call/Transaction Does Not Exist"),
         ANS + ("sw0",))
scenario("guest_silent",
         "Guest: join an open space, never answer the switch's re-INVITE; when the server gives up (408) it sends BYE.",
         OPEN_JOIN + """  <recv request="INVITE">
    <action>
      <ereg regexp="c=IN IP4 232\\.10\\.0\\.2/16" search_in="body" check_it="true" assign_to="sw0"/>
    </action>
  </recv>
  <recv request="BYE" timeout="60000"/>
""" + OK_TO_REQ, ANS + ("sw0",))

# -- when the host is lost (test/e2e/host_lost.sh, host_back.sh) ----------
scenario("guest_promoted",
         "Guest carol: join, be told the host is unreachable, then that she holds the remote; /allow the joiner who waited, watch [hold] ms, end the space with BYE.",
         JOIN + RING + answer_200() + ACK +
         expect_message("the host alice is unreachable", "u") +
         expect_message("carol holds the remote now: alice did not come back", "p") +
         expect_message("join request ([0-9]+) from bob", "n,n1") +
         command(2, "/allow [$n1]") + HOLD + bye(3),
         ANS + ("u", "p", "n"))
scenario("guest_host_back",
         "Guest carol: join, be told the host is unreachable, then that the host is back; stay until the end.",
         JOIN + RING + answer_200() + ACK +
         expect_message("the host alice is unreachable", "u") +
         expect_message("alice is back and holds the remote", "b") +
         expect_bye(ENDED), ANS + ("u", "b", "reason"))
scenario("host_returns",
         "Lost host alice: dial the space URI again within the grace, hold the remote at once, /allow the joiner who waited, watch [hold] ms, BYE.",
         invite("join") + PROV + answer_200() + ACK + JOINREQ +
         command(2, "/allow [$n1]") + HOLD + bye(3), ANS + ("n",))

# -- session timers (test/e2e/session_timer.sh) -----------------------------
scenario("host_timer_silent",
         "Host alice asking for RFC 4028 session timers with herself as refresher (90 s), /allow a guest, then never refresh: the server ends her dialog with BYE before the session expires.",
         invite("start", extra_hdr="Supported: timer\n      Session-Expires: 90;refresher=uac") +
         PROV + """  <recv response="200" rrs="true">
    <action>
      <ereg regexp="90;refresher=uac" search_in="hdr" header="Session-Expires:" check_it="true" assign_to="se"/>
    </action>
  </recv>
""" + ACK + JOINREQ + command(2, "/allow [$n1]") +
         '  <recv request="BYE" timeout="100000"/>\n' + OK_TO_REQ,
         ("se", "n"))
scenario("guest_promoted_quiet",
         "Guest carol: join, be told the host is unreachable, then that she holds the remote; watch [hold] ms, end the space with BYE.",
         JOIN + RING + answer_200() + ACK +
         expect_message("the host alice is unreachable", "u") +
         expect_message("carol holds the remote now: alice did not come back", "p") +
         HOLD + bye(2), ANS + ("u", "p"))

# -- faults (test/e2e/faults.sh) --------------------------------------------
scenario("stranger_bye",
         "A BYE for a dialog that does not exist (forged tags, new Call-ID) to space-1: 481, and nothing changes.",
         """  <send retrans="500">
    <![CDATA[

      BYE sip:[target]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[user]@[local_ip]>;tag=forged[pid]
      To: <sip:[target]@[remote_ip]:[remote_port]>;tag=notours[pid]
      Call-ID: [call_id]
      CSeq: 7 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="481"/>
""")
scenario("guest_race",
         "Joiners racing for the last seat (sipp -m 2 -r 1000): g1 and g2 dial an open space at once; each takes a 200 (then ACK, stays [hold] ms, BYE) or a 486 (then ACK).",
         (invite("join") + PROV +
          '  <recv response="486" optional="true" next="full"/>\n' +
          '  <recv response="200" rrs="true"/>\n' + ACK + HOLD + bye(2) +
          '  <nop next="done"/>\n  <label id="full"/>\n' + ACK_ERR +
          '  <label id="done"/>\n').replace("[user]", "g[call_number]"))

# -- authentication and rate limits (test/e2e/auth.sh, rate_limit.sh) -------
# Against a server that does not trust loopback (trust_loopback_from = no):
# the party answers the digest challenge with sipp's -au USER -ap PASSWORD.
# sipp computes MD5 only and reads the first WWW-Authenticate alone, so the
# server must offer MD5 first (digest_algorithms = MD5, SHA-256).
AUTH_INVITE = (invite("start")
               .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE\n      [authentication]")
               .replace("branch=z9hG4bK[pid]i[call_number]", "branch=[branch]"))
CHALLENGED = ('  <recv response="401" auth="true">\n    <action>\n'
              '      <ereg regexp="Digest realm=&quot;[^&quot;]+&quot;, nonce=&quot;[0-9a-f]+&quot;, algorithm=MD5, qop=&quot;auth&quot;" search_in="hdr" header="WWW-Authenticate:" check_it="true" assign_to="md5"/>\n'
              '    </action>\n  </recv>\n')
scenario("auth_host_start",
         "Host with digest (MD5; the server must offer it first): start a space, answer the 401 with -au/-ap credentials, watch [hold] ms, BYE.",
         invite("start") + PROV + CHALLENGED + ACK_ERR + AUTH_INVITE + PROV +
         answer_200() + ACK.replace("CSeq: 1 ACK", "CSeq: 2 ACK") + HOLD +
         bye(3), ANS + ("md5",))
scenario("auth_flood",
         "A source starting spaces without credentials (sipp -r above rate_limit): each INVITE gets a 401 challenge or, over the limit, 503 with Retry-After; ACK either.",
         invite("start") + PROV +
         '  <recv response="503" optional="true" next="over">\n'
         '    <action>\n'
         '      <ereg regexp="[0-9]+" search_in="hdr" header="Retry-After:" check_it="true" assign_to="ra"/>\n'
         '    </action>\n  </recv>\n' +
         '  <recv response="401"/>\n' + ACK_ERR +
         '  <nop next="done"/>\n  <label id="over"/>\n' + ACK_ERR +
         '  <label id="done"/>\n', ("ra",))

# -- friends and the quiz (test/e2e/social.sh) ------------------------------
scenario("host_social",
         "Host bob: start, /friend carol (she then joins unasked), run a quiz, wait [hold] ms for answers, /quiz end and read the tally, /unfriend carol, /friend nosuch (400), BYE.",
         START + command(2, "/friend carol") +
         expect_message("carol is on your friend list", "f1") +
         expect_message("carol joined without asking: a friend of yours", "j") +
         command(3, "/quiz Who scores first? | Home | Away") +
         expect_message("quiz: Who scores first[?] 1[)] Home 2[)] Away - reply /answer N", "q") +
         HOLD + command(4, "/quiz end") +
         expect_message("quiz result: Who scores first[?] 1[)] Home: 0 2[)] Away: 1 [(]1 answer[)]", "r") +
         command(5, "/unfriend carol") +
         expect_message("carol is off your friend list", "f2") +
         refused_command(6, "/friend nosuch", 400, "no such user") +
         refused_command(7, "/answer 9", 403, "no quiz is running") +
         bye(8), ANS + ("f1", "j", "q", "r", "f2", "warn"))
scenario("guest_quiz",
         "Guest carol: join (a friend of the host: no ringing), read the quiz, /answer 2, try /quiz (403), read the tally, stay until the end.",
         invite("join") + PROV + answer_200() + ACK +
         expect_message("quiz: Who scores first", "q") +
         refused_command(2, "/answer 7", 400, "no such answer") +
         command(3, "/answer 2") +
         expect_message("your answer: 2[)] Away", "a") +
         refused_command(4, "/quiz Again? | yes | no", 403, "only the host") +
         expect_message("quiz result: .*Away: 1", "r") +
         expect_bye(ENDED), ANS + ("q", "a", "r", "warn", "reason"))

VIDEO = "m=video [rtp_port] RTP/AVP 33\n      a=rtpmap:33 MP2T/90000\n      a=recvonly"


# -- instant channel change (test/e2e/icc.sh) -------------------------------
_zap = ""
for _i in range(6):
    _zap += '  <pause milliseconds="1300"/>\n' + \
        command(2 + _i, "/switch %s" % ("sports" if _i % 2 == 0 else "news"))
scenario("host_relay_zapping",
         "Host with a unicast MP2T offer (relay): start on news, switch between sports and news six times 1.3 s apart, BYE after [hold] ms.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:news",),
                mline=VIDEO) + PROV +
         relay_200().replace("m=audio [0-9]+ RTP/AVP 0", "m=video [0-9]+ RTP/AVP 33") +
         ACK + _zap + HOLD + bye(8), ("rc", "rm", "rd"))

# -- entitlements (test/e2e/entitlements.sh) --------------------------------
RELAY_JOIN = invite("join", caddr="127.0.0.1", mline=AUDIO) + PROV + \
    relay_200() + ACK
scenario("host_relay_switch_kids",
         "Host with a unicast audio offer (relay): start on music, /open, let guests in for 3 s, /switch kids, read who cannot follow, watch [hold] ms, BYE.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:music",),
                mline=AUDIO) + PROV + relay_200() + ACK +
         command(2, "/open") + '  <pause milliseconds="3000"/>\n' +
         command(3, "/switch kids") +
         expect_message("cannot follow to Kids Radio [(]not in their package[)]: dave", "nf") +
         HOLD + bye(4), ("rc", "rm", "rd", "nf"))
scenario("guest_relay_open",
         "Guest with a unicast audio offer (relay): join an open space, stay until the end.",
         RELAY_JOIN + expect_bye(ENDED), ("rc", "rm", "rd", "reason"))
scenario("guest_relay_slate",
         "Guest with a unicast audio offer (relay): join an open space; when it switches to a channel outside the guest's package, read why it gets the slate; stay until the end.",
         RELAY_JOIN +
         expect_message("Kids Radio is not in your package: you get the slate", "sl") +
         expect_bye(ENDED), ("rc", "rm", "rd", "sl", "reason"))
scenario("host_not_entitled",
         "Starter: ask for a channel outside the caller's package: 403 with a Warning.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:kids",),
                mline=AUDIO) + PROV +
         final(403, "not in your package") + ACK_ERR, ("warn",))

# -- the operator (test/e2e/admin.sh) -------------------------------------
OP_ENDED = "cause=200;text=.space ended by the operator"
scenario("host_open_operator",
         "Host: start on news, /open, stay until the operator ends the space (BYE with Reason).",
         START + command(2, "/open") + expect_bye(OP_ENDED),
         ANS + ("reason",))
scenario("guest_open_kicked",
         "Guest: join an open space, stay until the operator removes it (BYE with Reason).",
         OPEN_JOIN + expect_bye("cause=200;text=.removed by the operator"),
         ANS + ("reason",))
scenario("guest_open_operator",
         "Guest: join an open space, stay until the operator ends the space (BYE with Reason).",
         OPEN_JOIN + expect_bye(OP_ENDED), ANS + ("reason",))

scenario("host_relay_video",
         "Host with a unicast MP2T offer (relay): start on news, the server's transport stream file, BYE after [hold] ms.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:news",),
                mline=VIDEO) + PROV +
         relay_200().replace("m=audio [0-9]+ RTP/AVP 0", "m=video [0-9]+ RTP/AVP 33") +
         ACK + HOLD + bye(2), ("rc", "rm", "rd"))

# -- benchmark parties (bench/switch.sh) -----------------------------------
scenario("bench_host",
         "Benchmark host: start, /open, wait [hold] ms for the guests, /switch sports, answer the re-INVITE, wait, BYE.",
         START + command(2, "/open") + HOLD + command(3, "/switch sports") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + HOLD + bye(4),
         ANS + ("sw",))
scenario("bench_host_relay",
         "Benchmark host, relay: start on music, /open, wait [hold] ms for the guests, /switch kids, wait, BYE.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:music",),
                mline=AUDIO) + PROV + relay_200() + ACK + command(2, "/open") +
         HOLD + command(3, "/switch kids") + HOLD + bye(4),
         ("rc", "rm", "rd"))
_bench_guest = (invite("join") + PROV + answer_200() + ACK +
                reinvite_answer("232\\.10\\.0\\.2", "sw") +
                expect_bye(ENDED)).replace("[user]", "g[call_number]")
scenario("bench_guest",
         "Benchmark guests (sipp -m N): g1..gN join an open space, are re-pointed by the switch, stay until the end.",
         _bench_guest, ANS + ("sw", "reason"))
_bench_guest_relay = (invite("join", caddr="127.0.0.1", mline=AUDIO) + PROV +
                      relay_200() + ACK + expect_bye(ENDED)).replace(
                          "[user]", "g[call_number]")
scenario("bench_guest_relay",
         "Benchmark relay guests (sipp -m N): g1..gN join an open space with unicast audio offers, stay until the end.",
         _bench_guest_relay, ("rc", "rm", "rd", "reason"))


# Members held (bench/members.sh): hosts h1..hN each open a space, members
# g1..gM join the space their injection-file line names.
scenario("bench_host_open",
         "Benchmark hosts (sipp -m N): h1..hN start a space each, /open it, hold [hold] ms, BYE.",
         (START + command(2, "/open") + HOLD + bye(3)).replace(
             "[user]", "h[call_number]"), ANS)
scenario("bench_member",
         "Benchmark members (sipp -m N -inf FILE): g1..gN join the space named by field 0 of their line, hold [hold] ms, BYE.",
         (invite("join") + PROV + answer_200() + ACK + HOLD + bye(2)).replace(
             "[user]", "g[call_number]").replace("[target]", "[field0]"), ANS)
scenario("bench_member_named",
         "Benchmark members (sipp -m N -inf FILE, bench/notify.sh): the user in field 0 of its line joins the space in field 1, holds [hold] ms, BYE.",
         (invite("join") + PROV + answer_200() + ACK + HOLD + bye(2)).replace(
             "[user]", "[field0]").replace("[target]", "[field1]"), ANS)

# The join-rate benchmark (bench/join.sh): the same scenario against
# tvspaced and its peers, so no checks on what the answer says.
scenario("bench_join",
         "Benchmark joiners (sipp -m N -r R -trace_logs): g1..gN dial [target], take the 200, ACK, stay [hold] ms, BYE; logs the microseconds from INVITE to 200.",
         ('  <nop><action><gettimeofday assign_to="s0,u0"/></action></nop>\n' +
          invite("join") + PROV + '  <recv response="180" optional="true"/>\n' +
          '  <recv response="200" rrs="true"><action>'
          '<gettimeofday assign_to="s1,u1"/>'
          '<log message="join [$s0] [$u0] [$s1] [$u1]"/></action></recv>\n' +
          ACK + HOLD + indialog("BYE", 2) +
          '  <recv response="200"/>\n').replace("[user]", "g[call_number]"))


# Joins offered past capacity (test/e2e/overload_join.sh): every INVITE is
# answered 200 (ACKed, held, BYE), 486 (the space is full) or 503 (the
# server sheds load); anything else, or no answer, fails the call.
scenario("load_join",
         "Joins offered at a rate (sipp -m N -r R): g1..gN dial [target]; a 200 is ACKed, held [hold] ms and ended with BYE; a 486 or 503 is ACKed; any other answer fails the call.",
         (invite("join") + PROV + '  <recv response="180" optional="true"/>\n' +
          '  <recv response="486" optional="true" next="refused"/>\n' +
          '  <recv response="503" optional="true" next="refused"/>\n' +
          '  <recv response="200" rrs="true"/>\n' + ACK + HOLD +
          # The BYE's 200 is matched by its transaction: under load the
          # INVITE's 200, sent again, can come while the BYE waits for
          # its answer (SIPp matches a response by its code otherwise).
          bye(2).replace('<send retrans="500">',
                         '<send retrans="500" start_txn="bye">', 1)
                .replace('<recv response="200"/>',
                         '<recv response="200" response_txn="bye"/>') +
          '  <nop next="done"/>\n  <label id="refused"/>\n' + ACK_ERR +
          '  <label id="done"/>\n').replace("[user]", "g[call_number]"))

def dtmf_info(cseq, key):
    return indialog("INFO", cseq, "Signal=%s\n      Duration=160" % key,
                    ctype="application/dtmf-relay") + \
        '  <recv response="200"/>\n'


scenario("host_dtmf",
         "Host with a remote control: keys 2 then # (INFO application/dtmf-relay) switch to channel 2; the server re-INVITEs; BYE.",
         START + dtmf_info(2, "2") + dtmf_info(3, "#") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + HOLD + bye(4),
         ANS + ("sw",))
scenario("host_db_down",
         "Starter while the database is down: 503 with Retry-After and a Warning.",
         invite("start") + PROV + """  <recv response="503">
    <action>
      <ereg regexp="399 [^ ]+ &quot;[^&quot;]*database unavailable" search_in="hdr" header="Warning:" check_it="true" assign_to="warn"/>
      <ereg regexp="[0-9]+" search_in="hdr" header="Retry-After:" check_it="true" assign_to="ra"/>
    </action>
  </recv>
""" + ACK_ERR, ("warn", "ra"))
AUDIO_KEYS = AUDIO.replace("RTP/AVP 0 8", "RTP/AVP 0 8 101") + \
    "\n      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15"
scenario("host_relay_keys",
         "Host with a remote control on a relay (unicast audio offer with telephone-event): start on music, keys pressed on the RTP switch channels, BYE after [hold] ms.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:music",),
                mline=AUDIO_KEYS) + PROV +
         relay_200().replace('<ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="rd"/>',
                             '<ereg regexp="a=rtpmap:101 telephone-event/8000" search_in="body" check_it="true" assign_to="rd"/>') +
         ACK + HOLD + bye(2), ("rc", "rm", "rd"))


# -- several nodes behind Kamailio (test/e2e/cluster.sh) ---------------------
# A member of a space whose node dies is re-INVITEd by the node that takes
# the space over; the others are not.  So each party waits a while for that
# re-INVITE and goes on either way (ontimeout jumps to label 9).
OK_REINVITE_RELAY = OK_REINVITE.replace(
    "c=IN IP4 232.10.0.1/16", "c=IN IP4 127.0.0.1").replace(
    "m=video 5004 RTP/AVP 33\n      a=rtpmap:33 MP2T/90000\n      a=recvonly",
    "m=audio [field1] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000\n      a=recvonly")
def takeover(ms):
    """The takeover re-INVITE if it comes within ms, answered; label 9."""
    return """  <recv request="INVITE" timeout="%d" ontimeout="9">
    <action>
      <ereg regexp="m=audio [0-9]+ RTP/AVP 0" search_in="body" check_it="true" assign_to="tm"/>
    </action>
  </recv>
""" % ms + OK_REINVITE_RELAY + '  <recv request="ACK"/>\n' + \
        '  <label id="9"/>\n'


def cluster_host(ms):
    return (invite("start", caddr="127.0.0.1",
                   sdp_attrs=("bc_channel:music",),
                   mline=AUDIO.replace("[rtp_port]", "[field1]")) +
            PROV + relay_200() + ACK + command(2, "/open") + takeover(ms) +
            command(3, "/switch kids") + HOLD + bye(4)).replace(
                "[user]", "[field0]")


def cluster_guest(ms):
    return (invite("join", caddr="127.0.0.1",
                   mline=AUDIO.replace("[rtp_port]", "[field1]")) +
            PROV + relay_200() + ACK + takeover(ms) +
            expect_bye(ENDED)).replace("[user]", "[field0]").replace(
                "[target]", "[field2]")


scenario("cluster_host",
         "Host on a node behind Kamailio (sipp -m N -inf FILE: user;rtp_port): start a relay space on music, /open it, answer the re-INVITE of the node that takes the space over if it comes within 15 s, /switch kids, watch [hold] ms, BYE.",
         cluster_host(15000), ("rc", "rm", "rd", "tm"))
scenario("cluster_guest",
         "Guest on a node behind Kamailio (sipp -m N -inf FILE: user;rtp_port;space-N): join that open space with a relay offer, answer the takeover re-INVITE if it comes within 15 s, stay until the host ends the space.",
         cluster_guest(15000), ("rc", "rm", "rd", "tm", "reason"))
# The benchmark's parties (bench/takeover.sh: thousands through Kamailio on
# a shared machine) are the same as the tests', with what a real client
# does under load.  A dialog-forming INVITE that gets 500 or 503 (a node
# shedding load answers 503 with Retry-After, which Kamailio passes on as
# 500, RFC 3261 16.7) is ACKed and tried again 2 s later as a new dialog
# (its own From tag and branch), up to BENCH_TRIES times; only the last
# failure fails the call.  Not after a 408 or Kamailio's "the space's node
# does not answer" 503: the node may have taken the first attempt late (a
# guest tried again is then "already a member", 486), so that is a failure.  A 200 for a MESSAGE that comes again (our
# retransmission crossed the late answer, and the server's transaction
# answered it too, RFC 3261 17.2.2) is taken wherever it comes.  Each
# node serves media from an address of its own (127.0.0.N), so the c= line
# is any loopback address.
BENCH_TRIES = 3


def bench_attempts(inv):
    """INVITE inv (with the tag and branch of one attempt), tried up to
    BENCH_TRIES times, and the ACK of its 200; then the dialog's tag is in
    [$ftag].  Each 200 is followed by its ACK in the scenario: SIPp answers
    a 200 that comes again with the ACK that follows its <recv>."""
    out = ""
    for k in range(1, BENCH_TRIES + 1):
        a = "a%d" % k
        def mine(t):
            return t.replace("branch=z9hG4bK[pid]i[call_number]",
                             "branch=z9hG4bK[pid]i[call_number]" + a).replace(
                "tag=[pid]SIPpTag00[call_number]",
                "tag=[pid]SIPpTag00[call_number]" + a)
        ok = relay_200().replace(
            "c=IN IP4 127\\.0\\.0\\.1", "c=IN IP4 127\\.0\\.0\\.[0-9]+").replace(
            "    </action>",
            '      <assignstr assign_to="ftag" value="[pid]SIPpTag00[call_number]%s"/>\n'
            "    </action>" % a)
        last = k == BENCH_TRIES
        out += mine(inv) + PROV
        if not last:
            out += ('  <recv response="500" optional="true" next="retry%d"/>\n'
                    % k)
            out += """  <recv response="503" optional="true" next="retry%d">
    <action>
      <ereg regexp="does not answer" search_in="hdr" header="Warning:" check_it_inverse="true" assign_to="late"/>
    </action>
  </recv>
""" % k
        out += ok + mine(ACK)
        if not last:
            out += ('  <nop next="in"/>\n  <label id="retry%d"/>\n' % k +
                    mine(ACK_ERR) + '  <pause milliseconds="2000"/>\n')
    return out + '  <label id="in"/>\n'


# Also for a 200 to the INVITE that comes again after SIPp's answer to it
# (our ACK lost): the ACK again.
BENCH_UNEXPECTED = """  <nop next="end"/>
  <label id="_unexp.main"/>
  <recv response="200" optional="true" next="dup">
    <action>
      <ereg regexp="^[0-9]+ (INVITE|MESSAGE)" search_in="hdr" header="CSeq:" check_it="true" assign_to="dup,dupm"/>
      <strcmp assign_to="dupc" variable="dupm" value="INVITE"/>
      <test assign_to="dupi" variable="dupc" compare="equal" value="0"/>
    </action>
  </recv>
  <recv request="MESSAGE"/>
""" + OK_TO_REQ.replace("[user]@", "") + """  <nop next="back"/>
  <label id="dup"/>
  <nop test="dupi" next="reack"/>
  <nop next="back"/>
  <label id="reack"/>
""" + ACK.replace("tag=[pid]SIPpTag00[call_number]", "tag=[$ftag]") + """  <label id="back"/>
  <nop>
    <action>
      <pauserestore variable="_unexp.pausedaddr"/>
      <jump variable="_unexp.retaddr"/>
      <assign assign_to="_unexp.retaddr" value="0"/>
    </action>
  </nop>
  <label id="end"/>
"""


def bench_party(inv, rest):
    """inv tried as bench_attempts() says, then rest in that dialog."""
    rest = rest.replace("tag=[pid]SIPpTag00[call_number]", "tag=[$ftag]")
    return bench_attempts(inv) + rest + BENCH_UNEXPECTED


def bench_cluster_host(ms):
    return bench_party(
        invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:music",),
               mline=AUDIO.replace("[rtp_port]", "[field1]")),
        command(2, "/open") + takeover(ms) + command(3, "/switch kids") +
        HOLD + bye(4)).replace("[user]", "[field0]")


def bench_cluster_guest(ms):
    return bench_party(
        invite("join", caddr="127.0.0.1",
               mline=AUDIO.replace("[rtp_port]", "[field1]")),
        takeover(ms) + expect_bye(ENDED)).replace(
            "[user]", "[field0]").replace("[target]", "[field2]")


scenario("bench_cluster_host",
         "Benchmark hosts behind Kamailio (bench/takeover.sh): cluster_host, waiting up to 40 s for the takeover; the INVITE tried again after a 500 or a node's 503, a repeated 200 to a MESSAGE taken (see gen_scenarios.py).",
         bench_cluster_host(40000), ("rc", "rm", "rd", "tm", "dup", "dupm", "dupi", "late"))
scenario("bench_cluster_guest",
         "Benchmark guests behind Kamailio (bench/takeover.sh): cluster_guest, waiting up to 25 s for the takeover (less than their hosts, who came first and end the spaces after theirs); the INVITE tried again as the hosts'.",
         bench_cluster_guest(25000), ("rc", "rm", "rd", "tm", "reason", "dup", "dupm", "dupi", "late"))

# -- stops and restarts (test/e2e/restart_term.sh, restart_keys.sh,
# stop_end.sh) ---------------------------------------------------------------
SHUTDOWN = "cause=200;text=.the server is shutting down"
scenario("host_shutdown",
         "Host: start, /allow a join, stay until the server is stopped for good (SIGUSR1): BYE with Reason \"the server is shutting down\".",
         START + JOINREQ + command(2, "/allow [$n1]") + expect_bye(SHUTDOWN),
         ANS + ("n", "reason"))
scenario("guest_shutdown",
         "Guest: join [target] after approval, stay until the server is stopped for good: BYE with Reason \"the server is shutting down\".",
         JOIN + RING + answer_200() + ACK + expect_bye(SHUTDOWN),
         ANS + ("reason",))

scenario("guest_restarting",
         "Guest: join [target] and ring; the server is restarted (SIGTERM) before the host answers: 503 with the Warning \"the server is restarting, try again\".",
         JOIN + RING + final(503, "the server is restarting") + ACK_ERR,
         ("warn",))

AUDIO_KEYS_PTIME = AUDIO_KEYS + "\n      a=ptime:20"
OK_REINVITE_KEYS = OK_REINVITE.replace(
    "c=IN IP4 232.10.0.1/16", "c=IN IP4 127.0.0.1").replace(
    "m=video 5004 RTP/AVP 33\n      a=rtpmap:33 MP2T/90000\n      a=recvonly",
    "m=audio [rtp_port] RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000\n"
    "      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15\n"
    "      a=ptime:20\n      a=sendrecv")


def resumed_keys(n):
    """The re-INVITE of a restarted server: what the session had (PCMU,
    telephone-event 101, ptime 20, no direction: sendrecv, RFC 4566 §6),
    answered the same way."""
    return """  <recv request="INVITE" timeout="60000">
    <action>
      <ereg regexp="m=audio [0-9]+ RTP/AVP 0 101" search_in="body" check_it="true" assign_to="m%d"/>
      <ereg regexp="a=rtpmap:101 telephone-event/8000" search_in="body" check_it="true" assign_to="e%d"/>
      <ereg regexp="a=(sendonly|recvonly|inactive)" search_in="body" check_it_inverse="true" assign_to="d%d"/>
      <ereg regexp="a=ptime:20" search_in="body" check_it="true" assign_to="p%d"/>
    </action>
  </recv>
""" % (n, n, n, n) + OK_REINVITE_KEYS + '  <recv request="ACK"/>\n'


scenario("host_relay_resume",
         "Host with a remote control on a relay (PCMU, telephone-event 101, ptime 20): start on music; through two restarts of the server answer each re-INVITE, which must re-offer the same session; watch [hold] ms, BYE.",
         invite("start", caddr="127.0.0.1", sdp_attrs=("bc_channel:music",),
                mline=AUDIO_KEYS_PTIME) + PROV +
         relay_200().replace('<ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="rd"/>',
                             '<ereg regexp="a=rtpmap:101 telephone-event/8000" search_in="body" check_it="true" assign_to="rd"/>') +
         ACK + resumed_keys(1) + resumed_keys(2) + HOLD + bye(2),
         ("rc", "rm", "rd", "m1", "e1", "d1", "p1", "m2", "e2", "d2", "p2"))

# -- behind an IMS-style proxy (test/e2e/ims_proxy.sh, etc/kamailio-ims.cfg)
# Every party sends to the proxy, which challenges it (407), asserts its
# identity to tvspaced (P-Asserted-Identity) and record-routes.  What the
# server sends comes through the proxy: each check of a Via says so.
VIA_PROXY = ('      <ereg regexp="SIP/2.0/UDP 127\\.0\\.0\\.2[:;]" search_in="hdr" '
             'header="Via:" check_it="true" assign_to="%s"/>\n')
PROXY_CHALLENGE = ('  <recv response="407" auth="true"/>\n' + ACK_ERR)


def ims_invite(what):
    return (invite(what)
            .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE\n      [authentication]")
            .replace("branch=z9hG4bK[pid]i[call_number]", "branch=[branch]"))


def via_proxy(tag, var):
    return """  <recv request="%s">
    <action>
%s    </action>
  </recv>
""" % (tag, VIA_PROXY % var)


def ims_resumed(n):
    """A restarted server's re-INVITE and its ACK, both through the proxy
    (the route set stays the stored one, RFC 3261 12.2.1.2)."""
    return ("""  <recv request="INVITE" timeout="60000">
    <action>
%s    </action>
  </recv>
""" % (VIA_PROXY % ("ri%d" % n)) + OK_REINVITE + via_proxy("ACK", "ra%d" % n))


IMS_ACK = ACK.replace("CSeq: 1 ACK", "CSeq: 2 ACK")
scenario("ims_host",
         "Host behind an IMS-style proxy (the proxy on 127.0.0.2, -au/-ap): start a space (407, then with credentials), /allow the first join request, comment, /switch sports, answer the re-INVITE of each of two restarts (re-INVITE and ACK through the proxy), watch [hold] ms, BYE.",
         invite("start") + PROXY_CHALLENGE + ims_invite("start") + PROV +
         answer_200() + IMS_ACK + JOINREQ + command(3, "/allow [$n1]") +
         command(4, "what a goal") + command(5, "/switch sports") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + ims_resumed(1) +
         ims_resumed(2) + HOLD + bye(6),
         ANS + ("n", "sw", "ri1", "ra1", "ri2", "ra2"))
scenario("ims_guest",
         "Guest behind an IMS-style proxy (the proxy on 127.0.0.2, -au/-ap): join [target] (407, then with credentials), ring until allowed, read the host's comment, follow the switch, answer the re-INVITE of each of two restarts (through the proxy), stay until the host ends the space (its BYE through the proxy).",
         invite("join") + PROXY_CHALLENGE + ims_invite("join") + PROV + RING +
         answer_200() + IMS_ACK +
         expect_message("alice: what a goal", "c") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + ims_resumed(1) +
         ims_resumed(2) + """  <recv request="BYE">
    <action>
      <ereg regexp="%s" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/>
%s    </action>
  </recv>
""" % (ENDED, VIA_PROXY % "rb") + OK_TO_REQ,
         ANS + ("c", "sw", "ri1", "ra1", "ri2", "ra2", "reason", "rb"))

# -- RFC 4028 session timers and RFC 3261 §14.1 glare on the server's own
# dialogs (test/e2e/session_timer_min_se.sh, dialout_timers.sh,
# session_timer_switch.sh) ----------------------------------------------------
def hdr_is(header, regexp, var):
    """An ereg on one header of the message just received."""
    return ('      <ereg regexp="%s" search_in="hdr" header="%s:" '
            'check_it="true" assign_to="%s"/>\n' % (regexp, header, var))


def uas_reply(code, reason, extra=(), sdp=None):
    """Our answer to a request of the server, with our To tag and, for an
    INVITE, our Contact; EXTRA headers; the SDP body if given."""
    hdrs = "".join("      %s\n" % h for h in extra)
    body = ""
    if sdp:
        hdrs += "      Content-Type: application/sdp\n"
        body = sdp
    return """  <send>
    <![CDATA[

      SIP/2.0 %d %s
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[user]@[local_ip]:[local_port];transport=[transport]>
%s      Content-Length: [len]

%s
    ]]>
  </send>
""" % (code, reason, hdrs, body)


# [last_To:] of an in-dialog request of the server carries our tag already.
def uas_reply_indialog(code, reason, extra=(), sdp=None):
    return uas_reply(code, reason, extra, sdp).replace(
        "[last_To:];tag=[pid]SIPpTag01[call_number]", "[last_To:]")


CHANNEL_SDP = """      v=0
      o=[user] 1 2 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP4 %s/16
      t=0 0
      m=video 5004 RTP/AVP 33
      a=rtpmap:33 MP2T/90000
      a=recvonly
"""


def recv_request(method, checks, timeout=None):
    return '  <recv request="%s"%s>\n    <action>\n%s    </action>\n  </recv>\n' % (
        method, ' timeout="%d"' % timeout if timeout else "", "".join(checks))


TOO_SMALL = 'Session-Expires: 60'
scenario("host_timer_too_small",
         "Starter asking for a 60 s session (RFC 4028): 422 with Min-SE: 90 before anything is looked up; again with Session-Expires: 90: 200 with the session timer 90 s, the starter the refresher; watch [hold] ms, BYE.",
         invite("start", extra_hdr="Supported: timer\n      " + TOO_SMALL) +
         PROV + '  <recv response="422">\n    <action>\n' +
         hdr_is("Min-SE", "^ *90 *$", "minse") + '    </action>\n  </recv>\n' +
         ACK_ERR +
         invite("start", extra_hdr="Supported: timer\n      Session-Expires: 90")
         .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
         .replace("branch=z9hG4bK[pid]i[call_number]", "branch=[branch]") +
         PROV + '  <recv response="200" rrs="true">\n    <action>\n' +
         hdr_is("Session-Expires", "^ *90;refresher=uac", "se") +
         '    </action>\n  </recv>\n' +
         ACK.replace("CSeq: 1 ACK", "CSeq: 2 ACK") + HOLD + bye(3),
         ("minse", "se"))

scenario("host_refer_switch",
         "Host: start, REFER bob into the space (he answers 422, then takes the larger session), /switch sports once he is in, answer its re-INVITE, watch [hold] ms (bob's glare and 422 play out), BYE.",
         START + '  <pause milliseconds="500"/>\n' +
         refer(2, "<sip:bob@[local_ip]:[peer_port]>") +
         # The REFER's NOTIFYs: the INVITE restarted after bob's 422
         # (RFC 4028 §7.3), then its 200 (back to back: no loop here).
         recv_request("NOTIFY", ['      <ereg regexp="SIP/2.0 100 " search_in="body" check_it="true" assign_to="inv0"/>\n']) +
         OK_TO_REQ +
         recv_request("NOTIFY", ['      <ereg regexp="SIP/2.0 200" search_in="body" check_it="true" assign_to="inv"/>\n']) +
         OK_TO_REQ +
         command(3, "/switch sports") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") + HOLD + bye(4),
         ANS + ("inv0", "inv", "sw"))

scenario("invitee_timers",
         "Invitee (UAS) with a larger Min-SE than the server's: the space's INVITE (Session-Expires 1800) gets 422 Min-SE: 3600, the retry must ask 3600; the switch's re-INVITE (which must ask 3600 with Min-SE 3600) gets 491, its retry (2.1-4 s later: the server owns this Call-ID) gets 422 Min-SE: 7200, the next must ask 7200; then the BYE that ends the space.",
         recv_request("INVITE", [
             hdr_is("Session-Expires", "^ *1800", "se1"),
             hdr_is("From", "sip:space-[0-9]+@", "f")]) +
         uas_reply(422, "Session Interval Too Small", ("Min-SE: 3600",)) +
         '  <recv request="ACK"/>\n' +
         recv_request("INVITE", [hdr_is("Session-Expires", "^ *3600", "se2")]) +
         uas_reply(200, "OK", ("Supported: timer",
                               "Session-Expires: 3600;refresher=uas"),
                   CHANNEL_SDP % "232.10.0.1") +
         '  <recv request="ACK"/>\n' +
         # A refresh carries the session's interval and the dialog's
         # largest Min-SE (RFC 4028 §7.4), both 3600 since the 422.
         recv_request("INVITE", [
             '      <ereg regexp="c=IN IP4 232\\.10\\.0\\.2/16" search_in="body" check_it="true" assign_to="sw0"/>\n',
             hdr_is("Session-Expires", "^ *3600;refresher=uas", "se3"),
             hdr_is("Min-SE", "^ *3600", "mse3")]) +
         uas_reply_indialog(491, "Request Pending") +
         '  <recv request="ACK"/>\n' +
         recv_request("INVITE", [
             '      <ereg regexp="c=IN IP4 232\\.10\\.0\\.2/16" search_in="body" check_it="true" assign_to="sw1"/>\n',
             hdr_is("Session-Expires", "^ *3600;refresher=uas", "se3b")], 10000) +
         uas_reply_indialog(422, "Session Interval Too Small",
                            ("Min-SE: 7200",)) +
         '  <recv request="ACK"/>\n' +
         recv_request("INVITE", [hdr_is("Session-Expires", "^ *7200", "se4"),
                                 hdr_is("Min-SE", "^ *7200", "mse4")]) +
         uas_reply_indialog(200, "OK", ("Supported: timer",
                                        "Session-Expires: 7200;refresher=uas"),
                            CHANNEL_SDP % "232.10.0.2") +
         '  <recv request="ACK"/>\n' +
         '  <recv request="BYE"/>\n' + OK_TO_REQ,
         ("se1", "f", "se2", "sw0", "se3", "mse3", "sw1", "se3b", "se4",
          "mse4"))

scenario("host_switch_later",
         "Host: start, /open, wait [hold] ms, /switch sports, answer its re-INVITE, stay 100 s more (a guest's refreshed session runs out meanwhile), BYE.",
         START + command(2, "/open") + HOLD + command(3, "/switch sports") +
         reinvite_answer("232\\.10\\.0\\.2", "sw") +
         '  <pause milliseconds="100000"/>\n' + bye(4), ANS + ("sw",))

scenario("guest_timer_refreshed",
         "Guest asking for a 90 s session with itself as refresher (RFC 4028), joining an open space and never refreshing: the host's switch re-INVITE carries Session-Expires with the guest as refresher and is answered with 90 s, which refreshes the session; the server's BYE comes 90 s less a tenth after that re-INVITE, not after the join.",
         invite("join", extra_hdr="Supported: timer\n      "
                "Session-Expires: 90;refresher=uac") + PROV +
         '  <recv response="200" rrs="true">\n    <action>\n' +
         hdr_is("Session-Expires", "^ *90;refresher=uac", "se") +
         '    </action>\n  </recv>\n' + ACK +
         recv_request("INVITE", [
             '      <ereg regexp="c=IN IP4 232\\.10\\.0\\.2/16" search_in="body" check_it="true" assign_to="sw"/>\n',
             hdr_is("Session-Expires", "^ *90;refresher=uas", "rse"),
             hdr_is("Min-SE", "^ *90", "rmse")], 60000) +
         uas_reply_indialog(200, "OK", ("Supported: timer",
                                        "Session-Expires: 90;refresher=uas"),
                            CHANNEL_SDP % "232.10.0.2") +
         '  <recv request="ACK"/>\n' +
         '  <recv request="BYE" timeout="120000">\n    <action>\n' +
         hdr_is("Reason", "cause=408", "why") + '    </action>\n  </recv>\n' +
         OK_TO_REQ, ("se", "sw", "rse", "rmse", "why"))

# -- RFC 6086 Info Package for the remote control (test/e2e/info_package.sh)
def info_pkg(cseq, pkg, body, ctype):
    return indialog("INFO", cseq, body, ctype=ctype,
                    extra=("Info-Package: %s" % pkg,
                           "Content-Disposition: Info-Package"))


RECV_INFO = hdr_is("Recv-Info", "^ *infoDtmf *$", "%s")
scenario("host_info_package",
         "Host with a remote control speaking RFC 6086: the 200 lists Recv-Info: infoDtmf; keys 2 (application/dtmf-relay) then # (application/dtmf) in INFOs of that package switch to channel 2, whose re-INVITE lists it too; an INFO of another package gets 469 with Recv-Info and a Warning; keys 1 and # in legacy INFOs (no Info-Package) switch back; BYE.",
         invite("start") + PROV +
         '  <recv response="200" rrs="true">\n    <action>\n' +
         RECV_INFO % "ri" + '    </action>\n  </recv>\n' + ACK +
         info_pkg(2, "infoDtmf", "Signal=2\n      Duration=160",
                  "application/dtmf-relay") + '  <recv response="200"/>\n' +
         info_pkg(3, "infoDtmf", "#", "application/dtmf") +
         '  <recv response="200"/>\n' +
         recv_request("INVITE", [
             '      <ereg regexp="c=IN IP4 232\\.10\\.0\\.2/16" search_in="body" check_it="true" assign_to="sw"/>\n',
             RECV_INFO % "ri2"]) + OK_REINVITE + '  <recv request="ACK"/>\n' +
         info_pkg(4, "g.3gpp.ussd", "<ussd-data/>",
                  "application/vnd.3gpp.ussd+xml") +
         '  <recv response="469">\n    <action>\n' + RECV_INFO % "ri3" +
         hdr_is("Warning", "Info Package g.3gpp.ussd is not taken here",
                "warn") + '    </action>\n  </recv>\n' +
         dtmf_info(5, "1") + dtmf_info(6, "#") +
         reinvite_answer("232\\.10\\.0\\.1", "back") + HOLD + bye(7),
         ("ri", "sw", "ri2", "ri3", "warn", "back"))

# -- the pack's index -------------------------------------------------------
def run_command(name):
    """How QA runs NAME against a server on 127.0.0.1:5060 (scripts/demo.sh)."""
    base = "sipp -sf test/sipp/%s.xml -i 127.0.0.1" % name
    if name == "auth_host_start":
        return base + (" -m 1 -p 5091 -key user alice -key target share"
                       " -au alice -ap tvspace -d 5000 127.0.0.1:5060")
    if name.startswith("ims_"):
        user, target, port = (("alice", "share", 5091) if name == "ims_host"
                              else ("bob", "space-1", 5092))
        return base + (" -m 1 -p %d -key user %s -key target %s -au %s"
                       " -ap tvspace -d 3000 127.0.0.2:5062"
                       % (port, user, target, user))
    if name == "auth_flood":
        return base + " -m 300 -r 100 -p 5091 -key user alice -key target share 127.0.0.1:5060"
    if name == "load_join":
        return base + " -m 20000 -r 4000 -p 5094 -key target space-1 -d 500 127.0.0.1:5060"
    if name.startswith("bench_guest"):
        return base + " -m 100 -r 20 -p 5094 -key target space-1 127.0.0.1:5060"
    if name.startswith("host") or name.startswith("bench_host"):
        args = "-m 1 -p 5091 -key user alice -key target share -d 5000"
    elif name == "invitee":
        args = "-m 1 -p 5093 -key user carol -key target x"
    elif name.startswith("subscriber") or name.startswith("stray"):
        args = "-m 1 -p 5093 -key user carol -key target space-1"
    else:
        args = "-m 1 -p 5092 -key user bob -key target space-1"
    if "relay" in name:
        args += " -key rtp_port 41000"
    return "%s %s 127.0.0.1:5060" % (base, args)


with open("README.md", "w") as f:
    f.write("""# SIPp scenario pack

Every scenario the end-to-end tests drive tvspaced with, for QA to run by
hand against a server (`scripts/demo.sh` serves `sip:127.0.0.1:5060`; its
users are alice, bob, carol, dave, erin and frank).  Generated with this
file by `gen_scenarios.py`; do not edit either by hand.

Keys: `user` is who the party is (the demo trusts the From of loopback
requests), `target` the request URI's user (`share` starts a space,
`space-N` joins space N), `rtp_port` where a relay party receives RTP;
`-d` is the pause of `<pause/>` (how long a party watches).  A host and
its guests run in separate shells; a host that admits (`host_allow`)
waits for its guest's join request.  `bench_guest` with `-m N -r R` is the
load scenario: N guests g1..gN joining an open space (`host_open` or
`bench_host`) at R a second.  The `auth_` scenarios are for a server that
challenges loopback (`trust_loopback_from = no`, as test/e2e/auth.sh runs
it); the demo users' digest password is `tvspace`.

| scenario | what it does |
|---|---|
""")
    for name, desc in _pack:
        f.write("| `%s` | %s |\n" % (name, desc.replace("|", "\\|")))
    f.write("\n## Commands\n\n")
    for name, _ in _pack:
        f.write("    %s\n" % run_command(name))
