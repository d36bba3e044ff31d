/* The RTP parser of every receive path (RFC 3550 §5.1, §5.3.1), its MP2T
 * packets (ISO/IEC 13818-1 §2.4.3) and RFC 4733 events: good packets read
 * right, and each length that lies refused.  Every input sits at the end of
 * a heap block of its exact size, so a read past it is ASan's to see. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtpin.h"

#include "check_run.h"

static uint8_t *pkt;

static void teardown(void)
{
	free(pkt);
	pkt = NULL;
}

/* @a len bytes: a version 2 header (PT 33, seq 0x1234, ts 0x01020304, SSRC
 * 0xcafebabe) with @a b0 or-ed into the first byte, then 0xee. */
static uint8_t *packet(size_t len, uint8_t b0)
{
	free(pkt);
	pkt = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(pkt);
	memset(pkt, 0xee, len);
	if (len >= 12) {
		const uint8_t h[12] = {0x80, 33, 0x12, 0x34, 1,    2,
				       3,    4,  0xca, 0xfe, 0xba, 0xbe};

		memcpy(pkt, h, 12);
		pkt[0] |= b0;
	}
	return pkt;
}

static int parse(size_t len, struct rtpin *r)
{
	return rtpin_parse(pkt, len, r);
}

START_TEST(plain_packet)
{
	struct rtpin r;

	packet(12 + 160, 0);
	pkt[1] |= 0x80;
	ck_assert_int_eq(parse(12 + 160, &r), 0);
	ck_assert_uint_eq(r.pt, 33);
	ck_assert(r.marker);
	ck_assert_uint_eq(r.seq, 0x1234);
	ck_assert_uint_eq(r.ts, 0x01020304);
	ck_assert_uint_eq(r.ssrc, 0xcafebabe);
	ck_assert_uint_eq(r.csrc_count, 0);
	ck_assert(!r.extension);
	ck_assert_uint_eq(r.padding, 0);
	ck_assert_ptr_eq(r.payload, pkt + 12);
	ck_assert_uint_eq(r.payload_len, 160);
	/* A header alone is a packet with an empty payload. */
	packet(12, 0);
	ck_assert_int_eq(parse(12, &r), 0);
	ck_assert_uint_eq(r.payload_len, 0);
}
END_TEST

START_TEST(csrc_extension_padding)
{
	struct rtpin r;
	size_t len = 12 + 3 * 4 + 4 + 2 * 4 + 188 + 5;

	/* Three CSRCs, an extension of two words, 188 bytes, 5 of padding. */
	packet(len, 0x20 | 0x10 | 3);
	pkt[24 + 2] = 0;
	pkt[24 + 3] = 2;
	pkt[len - 1] = 5;
	ck_assert_int_eq(parse(len, &r), 0);
	ck_assert_uint_eq(r.csrc_count, 3);
	ck_assert(r.extension);
	ck_assert_uint_eq(r.padding, 5);
	ck_assert_ptr_eq(r.payload, pkt + 12 + 12 + 4 + 8);
	ck_assert_uint_eq(r.payload_len, 188);
	/* An extension of no words, and padding that is the whole payload
	 * (a packet of padding only, RFC 3550 §5.1). */
	packet(12 + 4 + 4, 0x20 | 0x10);
	pkt[14] = 0;
	pkt[15] = 0;
	pkt[19] = 4;
	ck_assert_int_eq(parse(20, &r), 0);
	ck_assert_uint_eq(r.payload_len, 0);
	ck_assert_ptr_eq(r.payload, pkt + 16);
	/* Fifteen CSRCs exactly filling the packet. */
	packet(12 + 60, 0x0f);
	ck_assert_int_eq(parse(72, &r), 0);
	ck_assert_uint_eq(r.payload_len, 0);
}
END_TEST

START_TEST(too_short_or_not_version_2)
{
	struct rtpin r;

	ck_assert_int_eq(rtpin_parse(NULL, 0, &r), -EBADMSG);
	for (size_t len = 0; len < 12; len++) {
		packet(len, 0);
		if (len)
			pkt[0] = 0x80;
		ck_assert_int_eq(parse(len, &r), -EBADMSG);
	}
	for (uint8_t v = 0; v < 4; v++) {
		packet(40, 0);
		pkt[0] = (uint8_t)(v << 6);
		ck_assert_int_eq(parse(40, &r), v == 2 ? 0 : -EBADMSG);
	}
}
END_TEST

START_TEST(csrc_past_the_end)
{
	struct rtpin r;

	for (unsigned cc = 1; cc < 16; cc++) {
		size_t need = 12 + 4 * cc;

		packet(need - 1, (uint8_t)cc);
		ck_assert_int_eq(parse(need - 1, &r), -EBADMSG);
		packet(need, (uint8_t)cc);
		ck_assert_int_eq(parse(need, &r), 0);
	}
}
END_TEST

START_TEST(extension_past_the_end)
{
	struct rtpin r;

	/* The extension's own 4 bytes cut short. */
	for (size_t len = 12; len < 16; len++) {
		packet(len, 0x10);
		ck_assert_int_eq(parse(len, &r), -EBADMSG);
	}
	/* Its length one word, or 65535 words, past the end. */
	packet(12 + 4 + 8, 0x10);
	pkt[14] = 0;
	pkt[15] = 3;
	ck_assert_int_eq(parse(24, &r), -EBADMSG);
	pkt[15] = 2;
	ck_assert_int_eq(parse(24, &r), 0);
	pkt[14] = 0xff;
	pkt[15] = 0xff;
	ck_assert_int_eq(parse(24, &r), -EBADMSG);
	/* After CSRCs that leave no room for it. */
	packet(12 + 8 + 2, 0x10 | 2);
	ck_assert_int_eq(parse(22, &r), -EBADMSG);
}
END_TEST

START_TEST(padding_that_lies)
{
	struct rtpin r;

	/* A padding count of 0 (it counts itself). */
	packet(30, 0x20);
	pkt[29] = 0;
	ck_assert_int_eq(parse(30, &r), -EBADMSG);
	/* Every count past the payload, up to 255: never a negative
	 * length.  The 20-byte packet with 196 is the one that crashed the
	 * server's instant-change scan. */
	for (unsigned pad = 19; pad < 256; pad++) {
		packet(30, 0x20);
		pkt[29] = (uint8_t)pad;
		ck_assert_int_eq(parse(30, &r), -EBADMSG);
	}
	packet(20, 0x20);
	pkt[19] = 196;
	ck_assert_int_eq(parse(20, &r), -EBADMSG);
	/* Exactly the payload: fine, empty; one byte: fine. */
	packet(30, 0x20);
	pkt[29] = 18;
	ck_assert_int_eq(parse(30, &r), 0);
	ck_assert_uint_eq(r.payload_len, 0);
	pkt[29] = 1;
	ck_assert_int_eq(parse(30, &r), 0);
	ck_assert_uint_eq(r.payload_len, 17);
	/* Padding into the CSRCs or the extension. */
	packet(12 + 8 + 4, 0x20 | 2);
	pkt[23] = 5;
	ck_assert_int_eq(parse(24, &r), -EBADMSG);
	pkt[23] = 4;
	ck_assert_int_eq(parse(24, &r), 0);
	packet(12 + 4 + 4, 0x20 | 0x10);
	pkt[14] = 0;
	pkt[15] = 1;
	pkt[19] = 1;
	ck_assert_int_eq(parse(20, &r), -EBADMSG);
	/* The P bit on a packet that is only its header. */
	packet(12, 0x20);
	pkt[11] = 1;
	ck_assert_int_eq(parse(12, &r), -EBADMSG);
}
END_TEST

START_TEST(rtcp_is_not_rtp)
{
	struct rtpin r;

	for (unsigned b1 = 192; b1 < 210; b1++) {
		packet(32, 0);
		pkt[1] = (uint8_t)b1;
		ck_assert_int_eq(parse(32, &r),
				 b1 >= 200 && b1 <= 204 ? -EBADMSG : 0);
	}
}
END_TEST

/* A 188-byte TS packet of PID 0x100 with adaptation_field_control @a afc
 * and adaptation field length @a aflen and flags @a flags. */
static void ts(unsigned afc, unsigned aflen, unsigned flags)
{
	packet(188, 0);
	memset(pkt, 0xff, 188);
	pkt[0] = 0x47;
	pkt[1] = 0x41;
	pkt[2] = 0x00;
	pkt[3] = (uint8_t)(afc << 4);
	pkt[4] = (uint8_t)aflen;
	pkt[5] = (uint8_t)flags;
}

START_TEST(ts_packets)
{
	struct rtpin_ts t;

	ts(1, 0, 0);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), 0);
	ck_assert_uint_eq(t.pid, 0x100);
	ck_assert(t.unit_start);
	ck_assert(!t.pcr && !t.random_access && !t.discontinuity);
	/* A keyframe's field: PCR, random access. */
	ts(3, 7, 0x50);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), 0);
	ck_assert(t.pcr && t.random_access && !t.discontinuity);
	ts(3, 182, 0x90);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), 0);
	ck_assert(t.pcr && t.discontinuity);
	/* A field of no bytes has no flags, whatever follows it. */
	ts(3, 0, 0x50);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), 0);
	ck_assert(!t.pcr && !t.random_access);
	ts(2, 183, 0x10);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), 0);
	ck_assert(t.pcr);
}
END_TEST

START_TEST(ts_packets_that_lie)
{
	struct rtpin_ts t;

	/* Short, no sync byte, reserved adaptation_field_control. */
	ts(1, 0, 0);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 187, &t), -EBADMSG);
	ck_assert_int_eq(rtpin_ts_packet(NULL, 188, &t), -EBADMSG);
	pkt[0] = 0x48;
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), -EBADMSG);
	ts(0, 0, 0);
	ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), -EBADMSG);
	/* Fields longer than the packet leaves them. */
	for (unsigned len = 183; len < 256; len++) {
		ts(3, len, 0);
		ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), -EBADMSG);
	}
	for (unsigned len = 0; len < 256; len++) {
		ts(2, len, 0);
		ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t),
				 len == 183 ? 0 : -EBADMSG);
	}
	/* A PCR flag in a field too short to hold one. */
	for (unsigned len = 1; len < 7; len++) {
		ts(3, len, 0x10);
		ck_assert_int_eq(rtpin_ts_packet(pkt, 188, &t), -EBADMSG);
	}
}
END_TEST

START_TEST(telephone_events)
{
	struct rtpin r;
	struct rtpin_event e;

	packet(16, 0);
	pkt[1] = 101;
	pkt[12] = 11;
	pkt[13] = 0x80 | 10;
	pkt[14] = 0x01;
	pkt[15] = 0x40;
	ck_assert_int_eq(parse(16, &r), 0);
	ck_assert_int_eq(rtpin_event(&r, &e), 0);
	ck_assert_uint_eq(e.event, 11);
	ck_assert(e.end);
	ck_assert_uint_eq(e.volume, 10);
	ck_assert_uint_eq(e.duration, 320);
	/* Fewer than 4 bytes of event, counting padding out. */
	for (size_t len = 12; len < 16; len++) {
		packet(len, 0);
		ck_assert_int_eq(parse(len, &r), 0);
		ck_assert_int_eq(rtpin_event(&r, &e), -EBADMSG);
	}
	packet(17, 0x20);
	pkt[16] = 2;
	ck_assert_int_eq(parse(17, &r), 0);
	ck_assert_int_eq(rtpin_event(&r, &e), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtpin");
	TCase *tc = tcase_create("rtpin");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, plain_packet);
	tcase_add_test(tc, csrc_extension_padding);
	tcase_add_test(tc, too_short_or_not_version_2);
	tcase_add_test(tc, csrc_past_the_end);
	tcase_add_test(tc, extension_past_the_end);
	tcase_add_test(tc, padding_that_lies);
	tcase_add_test(tc, rtcp_is_not_rtp);
	tcase_add_test(tc, ts_packets);
	tcase_add_test(tc, ts_packets_that_lie);
	tcase_add_test(tc, telephone_events);
	suite_add_tcase(s, tc);
	return check_run(s);
}
