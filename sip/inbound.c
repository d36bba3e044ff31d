/* Requests whose answer cannot be sent never reach the transaction layer.
 *
 * Why in the parser.  sofia-sip 1.12.11's nta makes a server transaction
 * for a request before anything of ours sees it.  When the final answer of
 * an INVITE transaction cannot be sent (sendto() fails: port 0, a maddr
 * that does not resolve or is a broadcast address, an answer too big for
 * a datagram), incoming_reply() puts the transaction on the agent's
 * "final_failed" queue, which only the agent's timer empties, and an ACK
 * with the INVITE's branch that arrives before that timer runs fails the
 * assertion at the end of nta.c's incoming_ack() (line 6105): the process
 * aborts.  And a request with another version than SIP/2.0 is answered 505
 * by agent_recv_request() before agent_check_request_via() adds received=
 * to its Via, so tport_tsend() resolves the Via's host with a blocking
 * getaddrinfo() on the loop, for as long as the resolver takes.  Neither
 * can be changed from nua's callbacks, which come after the transaction
 * exists; the parser is the one place of ours that runs before, and the
 * Via is what says where the answer goes (RFC 3261 §18.2.2).
 *
 * How.  A copy of sofia-sip's SIP message class whose Via header class
 * parses with sofia's own function, then checks the top Via of a request
 * from the network.  A Via refused here is a Via that does not parse: a
 * request with no other Via is dropped unanswered (nta needs a Via to
 * answer), one with a lower Via gets the stack's stateless 400 there,
 * after that Via passed the same checks. */
#define LOG_MODULE "sip"
#include "sip/inbound.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sofia-sip/hostdomain.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_string.h>

#include "server/log.h"

static msg_mclass_t *inbound_mc;
static struct msg_hclass_s via_class; /* sofia's, parsed by via_parse() */

/* The source address as text (IPv6 without brackets), or NULL. */
static const char *source_text(su_sockaddr_t const *from, char *buf, size_t len)
{
	if (from->su_family == AF_INET)
		return su_inet_ntop(AF_INET, &from->su_sin.sin_addr, buf,
				    (socklen_t)len);
	if (from->su_family == AF_INET6)
		return su_inet_ntop(AF_INET6, &from->su_sin6.sin6_addr, buf,
				    (socklen_t)len);
	return NULL;
}

/* A port of sent-by: 1 to 65535 in digits. */
static bool port_ok(const char *port)
{
	char *end;
	unsigned long n;

	if (!port[0] || strspn(port, "0123456789") != strlen(port))
		return false;
	errno = 0;
	n = strtoul(port, &end, 10);
	return !errno && n >= 1 && n <= 65535;
}

enum inbound_verdict inbound_check(su_home_t *home, sip_request_t const *rq,
				   sip_via_t *v, su_sockaddr_t const *from,
				   size_t dgram_size, const char **ret_why)
{
	char src[64];
	const char *transport = sip_via_transport(v);
	bool dgram = dgram_size > 0;

	if (!source_text(from, src, sizeof(src))) {
		*ret_why = "no source address";
		return INBOUND_DROP;
	}
	if (dgram_size > INBOUND_DGRAM_MAX) {
		*ret_why = "too big for a datagram";
		return INBOUND_DROP;
	}
	/* nta drops these too (agent_check_request_via()), but after it has
	 * answered a bad version. */
	if (!transport || dgram != su_casematch(transport, "UDP")) {
		*ret_why = "top Via names another transport";
		return INBOUND_DROP;
	}
	/* RFC 3261 §18.2.2: without rport the answer goes to sent-by's
	 * port; port 0 cannot be sent to, and nothing else can stand for
	 * it. */
	if (v->v_port && !port_ok(v->v_port)) {
		*ret_why = "top Via's sent-by port is not 1-65535";
		return INBOUND_DROP;
	}
	/* RFC 3261 §18.2.2: maddr wins over received.  It names the group of
	 * a multicast request (§18.1.1), and tvspaced is sent none: anything
	 * but the source itself asks for the answer to go elsewhere (a
	 * broadcast address that sendto() refuses, a third party, a name to
	 * look up on the loop). */
	if (v->v_maddr &&
	    (!host_is_ip_address(v->v_maddr) || host_cmp(v->v_maddr, src))) {
		*ret_why = "top Via's maddr is not the source address";
		return INBOUND_DROP;
	}
	if (rq && rq->rq_version && !su_casematch(rq->rq_version, "SIP/2.0")) {
		/* nta answers 505 before its Via processing: what that would
		 * have added, so the answer goes to the source address and
		 * no name is looked up (RFC 3261 §18.2.1, RFC 3581 §4). */
		char *p;

		if (host_cmp(v->v_host, src)) {
			p = su_sprintf(home, "received=%s", src);
			if (!p || msg_header_replace_param(home, v->v_common,
							   p) < 0) {
				*ret_why = "out of memory";
				return INBOUND_DROP;
			}
		}
		if (v->v_rport) {
			p = su_sprintf(home, "rport=%u", ntohs(from->su_port));
			if (!p || msg_header_replace_param(home, v->v_common,
							   p) < 0) {
				*ret_why = "out of memory";
				return INBOUND_DROP;
			}
		}
	}
	return INBOUND_PASS;
}

/* sofia's Via parser, then the checks for the top Via of a request that
 * came from the network. */
static issize_t via_parse(su_home_t *home, msg_header_t *h, char *s,
			  isize_t slen)
{
	/* The parser hands each header the home of its message, which is
	 * the message itself (msg_home()): msg_extract_header() does so for
	 * every header it parses. */
	msg_t *msg = (msg_t *)home;
	su_addrinfo_t *ai;
	su_sockaddr_t const *from;
	sip_t const *sip;
	const char *why = NULL;
	size_t size = 0;
	char src[64];

	if (sip_via_class->hc_parse(home, h, s, slen) < 0)
		return -1;
	if (msg_mclass(msg) != inbound_mc)
		return 0;
	sip = sip_object(msg);
	/* Responses, and Vias below the top one. */
	if (!sip || !sip->sip_request || sip->sip_via)
		return 0;
	ai = msg_addrinfo(msg);
	from = ai ? (su_sockaddr_t const *)ai->ai_addr : NULL;
	/* A message we build is not from the network: no source. */
	if (!from ||
	    (from->su_family != AF_INET && from->su_family != AF_INET6))
		return 0;
	/* A datagram is in the buffer whole before it is parsed: what is
	 * parsed so far and what is left. */
	if (ai->ai_socktype == SOCK_DGRAM)
		size = msg_size(msg) + msg_buf_committed(msg);
	if (inbound_check(home, sip->sip_request, (sip_via_t *)h, from, size,
			  &why) == INBOUND_PASS)
		return 0;
	log_info("dropped %s from %s:%u, its answer could not be sent: %s",
		 sip->sip_request->rq_method_name,
		 source_text(from, src, sizeof(src)) ? src : "?",
		 ntohs(from->su_port), why);
	return -1;
}

msg_mclass_t const *inbound_mclass(void)
{
	msg_mclass_t *mc;
	msg_href_t stock;
	msg_href_t *shorts;
	sip_t probe;
	int i;

	if (inbound_mc)
		return inbound_mc;
	mc = msg_mclass_clone(sip_default_mclass(), 0, 0);
	if (!mc)
		return NULL;
	for (i = 0; i < mc->mc_hash_size; i++)
		if (mc->mc_hash[i].hr_class == sip_via_class)
			break;
	if (i == mc->mc_hash_size)
		goto fail;
	via_class = *sip_via_class;
	via_class.hc_parse = via_parse;
	stock = mc->mc_hash[i];
	mc->mc_hash[i].hr_class = &via_class;
	/* sofia finds where a header goes (msg_hclass_offset()) by the
	 * address of its class, and nta and nua add Via headers of the stock
	 * class to messages of this class: it stays in the table, after ours
	 * on the same probe sequence, so parsing by name finds ours first. */
	if (msg_mclass_insert(mc, &stock) < 0)
		goto fail;
	shorts = (msg_href_t *)mc->mc_short;
	if (shorts && sip_via_class->hc_short[0] == 'v')
		shorts['v' - 'a'].hr_class = &via_class;
	/* Both classes lead to the message's Via list. */
	if (msg_hclass_offset(mc, (msg_pub_t *)&probe, &via_class) !=
		(msg_header_t **)&probe.sip_via ||
	    msg_hclass_offset(mc, (msg_pub_t *)&probe, sip_via_class) !=
		(msg_header_t **)&probe.sip_via)
		goto fail;
	inbound_mc = mc;
	return mc;
fail:
	free(mc);
	return NULL;
}
