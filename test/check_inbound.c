/* The checks of requests in sofia-sip's parser (sip/inbound.c): messages
 * are parsed with the parser tvspaced gives nta, as the transport layer
 * does (a source address, then the bytes of a datagram or of a stream),
 * and what the transaction layer would get is looked at. */
#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_string.h>

#include "sip/inbound.h"

#include "check_run.h"

/* @a text as received from @a addr port 5099 over a datagram (or a stream
 * when @a stream), parsed by the inbound parser. */
static msg_t *receive(const char *text, const char *addr, bool stream)
{
	msg_mclass_t const *mc = inbound_mclass();
	msg_t *msg;
	su_sockaddr_t su;
	size_t n = strlen(text);
	char *b;

	ck_assert_ptr_nonnull(mc);
	msg = msg_create(mc, 0);
	ck_assert_ptr_nonnull(msg);
	memset(&su, 0, sizeof(su));
	if (strchr(addr, ':')) {
		su.su_family = AF_INET6;
		ck_assert_int_eq(
		    inet_pton(AF_INET6, addr, &su.su_sin6.sin6_addr), 1);
		su.su_port = htons(5099);
		ck_assert_int_eq(msg_set_address(msg, &su, sizeof(su.su_sin6)),
				 0);
	}
	else {
		su.su_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, addr, &su.su_sin.sin_addr),
				 1);
		su.su_port = htons(5099);
		ck_assert_int_eq(msg_set_address(msg, &su, sizeof(su.su_sin)),
				 0);
	}
	msg_addrinfo(msg)->ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
	b = msg_buf_alloc(msg, n + 1);
	ck_assert_ptr_nonnull(b);
	memcpy(b, text, n);
	msg_buf_commit(msg, n, 1);
	msg_extract(msg);
	return msg;
}

static char *request(const char *version, const char *via)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "INVITE sip:share@tvspace.test %s\r\n"
		 "%s\r\n"
		 "From: <sip:alice@tvspace.test>;tag=1\r\n"
		 "To: <sip:share@tvspace.test>\r\n"
		 "Call-ID: inbound@127.0.0.1\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Max-Forwards: 70\r\n"
		 "Content-Length: 0\r\n\r\n",
		 version, via);
	return buf;
}

/* The top Via the transaction layer gets, or NULL. */
static sip_via_t *top_via(msg_t *msg)
{
	sip_t *sip = sip_object(msg);

	ck_assert_ptr_nonnull(sip);
	ck_assert_ptr_nonnull(sip->sip_request);
	return sip->sip_via;
}

START_TEST(ordinary_request_passes)
{
	msg_t *msg = receive(
	    request("SIP/2.0",
		    "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;rport"),
	    "127.0.0.1", false);
	sip_t *sip = sip_object(msg);
	sip_via_t *v = top_via(msg);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->v_port, "5099");
	ck_assert_ptr_null(sip->sip_error);
	ck_assert_int_eq(sip_sanity_check(sip), 0);
	/* nta and nua add Vias of sofia's own class to messages of this
	 * class: they go where the parsed ones are. */
	ck_assert_int_eq(sip_add_make(msg, sip, sip_via_class,
				      "SIP/2.0/UDP 192.0.2.1:5060;branch=x"),
			 0);
	ck_assert_str_eq(sip->sip_via->v_host, "192.0.2.1");
	ck_assert_ptr_nonnull(sip->sip_via->v_next);
	ck_assert_int_ge(msg_serialize(msg, (msg_pub_t *)sip), 0);
	msg_destroy(msg);
}
END_TEST

/* RFC 3261 §18.2.2: the answer goes to sent-by's port; 0 cannot be sent
 * to (the two-datagram abort of issue 19). */
START_TEST(sent_by_port_zero_is_dropped)
{
	const char *bad[] = {
	    "Via: SIP/2.0/UDP localhost:0;branch=z9hG4bK1",
	    "Via: SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK1;rport",
	    "Via: SIP/2.0/UDP 127.0.0.1:00000;branch=z9hG4bK1",
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_t *msg =
		    receive(request("SIP/2.0", bad[i]), "127.0.0.1", false);
		sip_t *sip = sip_object(msg);

		ck_assert_msg(!top_via(msg), "%s passed", bad[i]);
		/* No Via: nta answers nothing (agent_recv_request()). */
		ck_assert_ptr_nonnull(sip->sip_error);
		ck_assert_int_lt(sip_sanity_check(sip), 0);
		msg_destroy(msg);
	}
}
END_TEST

/* A Via below a refused one becomes the top and is checked the same way:
 * a good one gets the stack's 400, a bad one nothing. */
START_TEST(next_via_is_checked_as_the_top)
{
	msg_t *msg =
	    receive(request("SIP/2.0",
			    "Via: SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK1\r\n"
			    "Via: SIP/2.0/UDP 127.0.0.1:5098;branch=z9hG4bK2"),
		    "127.0.0.1", false);
	sip_via_t *v = top_via(msg);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->v_port, "5098");
	ck_assert_ptr_null(v->v_next);
	msg_destroy(msg);

	msg = receive(request("SIP/2.0",
			      "Via: SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK1, "
			      "SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK2"),
		      "127.0.0.1", false);
	ck_assert_ptr_null(top_via(msg));
	msg_destroy(msg);
}
END_TEST

/* RFC 3261 §18.2.2: maddr wins over received; only the source itself is
 * taken. */
START_TEST(maddr_other_than_the_source_is_dropped)
{
	const char *bad[] = {
	    "Via: SIP/2.0/UDP "
	    "127.0.0.1:5099;maddr=nosuch.invalid;branch=z9hG4bK1",
	    "Via: SIP/2.0/UDP "
	    "127.0.0.1:5099;maddr=255.255.255.255;branch=z9hG4bK1",
	    "Via: SIP/2.0/UDP 127.0.0.1:5099;maddr=239.1.2.3;branch=z9hG4bK1",
	    "Via: SIP/2.0/UDP 127.0.0.1:5099;maddr=192.0.2.7;branch=z9hG4bK1",
	};
	msg_t *msg;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg = receive(request("SIP/2.0", bad[i]), "127.0.0.1", false);
		ck_assert_msg(!top_via(msg), "%s passed", bad[i]);
		msg_destroy(msg);
	}
	msg = receive(request("SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5099;"
					 "maddr=127.0.0.1;branch=z9hG4bK1"),
		      "127.0.0.1", false);
	ck_assert_ptr_nonnull(top_via(msg));
	msg_destroy(msg);
}
END_TEST

/* The stack answers another version with 505 before it adds received=:
 * it is added here, so the answer needs no lookup of c.example.com (RFC
 * 3261 §18.2.1), and rport gets the source port (RFC 3581 §4). */
START_TEST(bad_version_gets_received_and_rport)
{
	msg_t *msg =
	    receive(request("SIP/7.0", "Via: SIP/7.0/UDP c.example.com;"
				       "branch=z9hG4bKkdjuw;rport"),
		    "127.0.0.1", false);
	sip_via_t *v = top_via(msg);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(sip_object(msg)->sip_request->rq_version, "SIP/7.0");
	ck_assert_str_eq(v->v_host, "c.example.com");
	ck_assert_ptr_nonnull(v->v_received);
	ck_assert_str_eq(v->v_received, "127.0.0.1");
	ck_assert_ptr_nonnull(v->v_rport);
	ck_assert_str_eq(v->v_rport, "5099");
	msg_destroy(msg);

	/* Over IPv6 the address goes without brackets; a sent-by that is
	 * the source already gets no received=. */
	msg = receive(request("SIP/7.0",
			      "Via: SIP/7.0/UDP c.example.com;branch=z9hG4bK1"),
		      "2001:db8::1", false);
	v = top_via(msg);
	ck_assert_str_eq(v->v_received, "2001:db8::1");
	ck_assert_ptr_null(v->v_rport);
	msg_destroy(msg);
	msg = receive(
	    request("SIP/7.0",
		    "Via: SIP/7.0/UDP [2001:db8::1]:5099;branch=z9hG4bK1"),
	    "2001:db8::1", false);
	ck_assert_ptr_null(top_via(msg)->v_received);
	msg_destroy(msg);
}
END_TEST

/* SIP/2.0 requests are left to nta's own Via processing. */
START_TEST(good_version_left_to_the_stack)
{
	msg_t *msg =
	    receive(request("SIP/2.0", "Via: SIP/2.0/UDP c.example.com;"
				       "branch=z9hG4bK1;rport"),
		    "127.0.0.1", false);
	sip_via_t *v = top_via(msg);

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v->v_received);
	ck_assert_str_eq(v->v_rport, "");
	msg_destroy(msg);
}
END_TEST

START_TEST(transport_must_be_the_arrival_one)
{
	msg_t *msg =
	    receive(request("SIP/2.0", "Via: SIP/2.0/TCP 127.0.0.1:5099;"
				       "branch=z9hG4bK1"),
		    "127.0.0.1", false);

	ck_assert_ptr_null(top_via(msg));
	msg_destroy(msg);
	msg =
	    receive(request("SIP/2.0",
			    "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK1"),
		    "127.0.0.1", true);
	ck_assert_ptr_nonnull(top_via(msg));
	msg_destroy(msg);
	msg =
	    receive(request("SIP/2.0",
			    "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1"),
		    "127.0.0.1", true);
	ck_assert_ptr_null(top_via(msg));
	msg_destroy(msg);
}
END_TEST

/* A datagram whose answer would not fit in one; a stream has no limit. */
/* @a pad bytes of padding in a header after the Via of @a transport. */
static char *padded(const char *transport, size_t pad)
{
	char via[128];
	const char *head, *rest;
	char *text = malloc(pad + 2048);

	ck_assert_ptr_nonnull(text);
	snprintf(via, sizeof(via),
		 "Via: SIP/2.0/%s 127.0.0.1:5099;branch=z9hG4bK1\r\nX-Pad: ",
		 transport);
	head = request("SIP/2.0", via);
	rest = strstr(head, "X-Pad: ") + 7;
	memcpy(text, head, (size_t)(rest - head));
	memset(text + (rest - head), 'x', pad);
	strcpy(text + (rest - head) + pad, rest);
	return text;
}

START_TEST(oversized_datagram_is_dropped)
{
	char *text = padded("UDP", INBOUND_DGRAM_MAX);
	msg_t *msg;

	ck_assert_uint_gt(strlen(text), INBOUND_DGRAM_MAX);
	msg = receive(text, "127.0.0.1", false);
	ck_assert_ptr_null(top_via(msg));
	msg_destroy(msg);
	free(text);
	/* Just under the limit. */
	text = padded("UDP", INBOUND_DGRAM_MAX - 400);
	ck_assert_uint_le(strlen(text), INBOUND_DGRAM_MAX);
	msg = receive(text, "127.0.0.1", false);
	ck_assert_ptr_nonnull(top_via(msg));
	msg_destroy(msg);
	free(text);
	text = padded("TCP", INBOUND_DGRAM_MAX);
	msg = receive(text, "127.0.0.1", true);
	ck_assert_ptr_nonnull(top_via(msg));
	msg_destroy(msg);
	free(text);
}
END_TEST

/* Responses are parsed as sofia parses them. */
START_TEST(responses_untouched)
{
	msg_t *msg = receive("SIP/2.0 200 OK\r\n"
			     "Via: SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK1\r\n"
			     "From: <sip:a@tvspace.test>;tag=1\r\n"
			     "To: <sip:b@tvspace.test>;tag=2\r\n"
			     "Call-ID: r@127.0.0.1\r\n"
			     "CSeq: 1 OPTIONS\r\n"
			     "Content-Length: 0\r\n\r\n",
			     "127.0.0.1", false);
	sip_t *sip = sip_object(msg);

	ck_assert_ptr_nonnull(sip->sip_status);
	ck_assert_ptr_nonnull(sip->sip_via);
	ck_assert_str_eq(sip->sip_via->v_port, "0");
	msg_destroy(msg);
}
END_TEST

/* A message we build has no source address: nothing is checked. */
START_TEST(built_messages_untouched)
{
	msg_t *msg = msg_create(inbound_mclass(), 0);
	sip_t *sip = sip_object(msg);

	ck_assert_int_eq(
	    sip_add_tl(msg, sip, SIPTAG_REQUEST_STR("OPTIONS sip:a@b SIP/2.0"),
		       SIPTAG_HEADER_STR("Via: SIP/2.0/UDP h:0;branch=x"),
		       TAG_END()),
	    0);
	ck_assert_ptr_nonnull(sip->sip_via);
	msg_destroy(msg);
}
END_TEST

static Suite *inbound_suite(void)
{
	Suite *s = suite_create("inbound");
	TCase *tc = tcase_create("via");

	tcase_add_test(tc, ordinary_request_passes);
	tcase_add_test(tc, sent_by_port_zero_is_dropped);
	tcase_add_test(tc, next_via_is_checked_as_the_top);
	tcase_add_test(tc, maddr_other_than_the_source_is_dropped);
	tcase_add_test(tc, bad_version_gets_received_and_rport);
	tcase_add_test(tc, good_version_left_to_the_stack);
	tcase_add_test(tc, transport_must_be_the_arrival_one);
	tcase_add_test(tc, oversized_datagram_is_dropped);
	tcase_add_test(tc, responses_untouched);
	tcase_add_test(tc, built_messages_untouched);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(inbound_suite());
}
