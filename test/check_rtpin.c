/* The RTP parser of every receive path (RFC 3550 §5.1, §5.3.1), its MP2T
 * packets (ISO/IEC 13818-1 §2.4.3) and RFC 4733 events: good packets read
 * right, and each length that lies refused.  Every input sits at the end of
 * a heap block of its exact size, so a read past it is ASan's to see. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
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

	/* RFC 5761 §4: RTCP's packet types are 192..223; a browser's
	 * feedback through rtpengine (RFC 4585: 205 NACK, 206 PLI) is RTCP
	 * too, not RTP of payload type 77 or 78. */
	for (unsigned b1 = 180; b1 < 230; b1++) {
		bool rtcp = b1 >= 192 && b1 <= 223;

		packet(32, 0);
		pkt[1] = (uint8_t)b1;
		ck_assert_int_eq(parse(32, &r), rtcp ? -EBADMSG : 0);
		ck_assert(rtpin_is_rtcp(pkt, 32) == rtcp);
	}
	/* a PLI: header, sender SSRC, media SSRC */
	packet(12, 0);
	pkt[0] = 0x81;
	pkt[1] = 206;
	pkt[3] = 2;
	ck_assert(rtpin_is_rtcp(pkt, 12));
	ck_assert(!rtpin_is_rtcp(pkt, 7));
	pkt[0] = 0x41; /* version 1 */
	ck_assert(!rtpin_is_rtcp(pkt, 12));
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

/* A packet of PT 96 whose payload is the @a n bytes at @a b, parsed. */
static struct rtpin with_payload(const uint8_t *b, size_t n)
{
	struct rtpin r;

	packet(12 + n, 0);
	pkt[1] = 96;
	memcpy(pkt + 12, b, n);
	ck_assert_int_eq(parse(12 + n, &r), 0);
	return r;
}

/* RFC 6386 §9.1: a key frame's tag (P bit 0), start code, size. */
#define VP8_KEY 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xe0, 0x01, 0x0e, 0x01

START_TEST(vp8_descriptors)
{
	/* what ffmpeg sends: X, S; I; a 7-bit PictureID */
	const uint8_t key7[] = {0x90, 0x80, 0x19, VP8_KEY};
	/* a 15-bit PictureID, TL0PICIDX, TID/KEYIDX */
	const uint8_t key15[] = {0x90, 0xf0, 0x81, 0x02, 0x07, 0x20, VP8_KEY};
	/* the next packet of the same frame: S clear */
	const uint8_t cont[] = {0x80, 0x80, 0x19, 0x55, 0x66};
	/* an inter frame: P bit set */
	const uint8_t inter[] = {0x90, 0x80, 0x1a, 0x31, 0x02, 0x00, 0, 0};
	/* the smallest descriptor, a key frame */
	const uint8_t bare[] = {0x10, VP8_KEY};
	/* key flag, but no start code: not a key frame */
	const uint8_t fake[] = {0x10, 0x10, 0x02, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00, 0x00};
	struct rtpin_video v;
	struct rtpin r;

	r = with_payload(key7, sizeof(key7));
	ck_assert_int_eq(rtpin_vp8(&r, &v), 0);
	ck_assert(v.key && v.has_picture_id && !v.wide_picture_id);
	ck_assert_uint_eq(v.picture_id, 0x19);
	ck_assert_uint_eq(v.picture_id_at, 2);

	r = with_payload(key15, sizeof(key15));
	ck_assert_int_eq(rtpin_vp8(&r, &v), 0);
	ck_assert(v.key && v.wide_picture_id);
	ck_assert_uint_eq(v.picture_id, 0x102);
	ck_assert_uint_eq(v.picture_id_at, 2);

	r = with_payload(cont, sizeof(cont));
	ck_assert_int_eq(rtpin_vp8(&r, &v), 0);
	ck_assert(!v.key && v.has_picture_id);
	r = with_payload(inter, sizeof(inter));
	ck_assert_int_eq(rtpin_vp8(&r, &v), 0);
	ck_assert(!v.key);
	r = with_payload(bare, sizeof(bare));
	ck_assert_int_eq(rtpin_vp8(&r, &v), 0);
	ck_assert(v.key && !v.has_picture_id);
	r = with_payload(fake, sizeof(fake));
	ck_assert_int_eq(rtpin_vp8(&r, &v), 0);
	ck_assert(!v.key);

	/* A descriptor that runs past the payload, at every length. */
	for (size_t n = 0; n < 6; n++) {
		packet(12 + n, 0);
		memcpy(pkt + 12, key15, n);
		ck_assert_int_eq(parse(12 + n, &r), 0);
		ck_assert_int_eq(rtpin_vp8(&r, &v), -EBADMSG);
	}
}
END_TEST

START_TEST(h264_nal_units)
{
	/* STAP-A: SPS, PPS (RFC 6184 §5.7.1), as ffmpeg sends before an
	 * IDR */
	const uint8_t stap[] = {0x18, 0x00, 0x04, 0x67, 0x42, 0xc0,
				0x1f, 0x00, 0x02, 0x68, 0xce};
	/* FU-A, the start of an IDR slice, and a middle */
	const uint8_t fu_idr[] = {0x7c, 0x85, 0xb8, 0x00};
	const uint8_t fu_mid[] = {0x7c, 0x05, 0x11, 0x22};
	/* one NAL unit: a non-IDR slice; an SPS */
	const uint8_t slice[] = {0x41, 0x9a, 0x00};
	const uint8_t sps[] = {0x67, 0x42, 0xc0, 0x1f};
	/* hostile: STAP-A sizes past the end or 0, F set, reserved types */
	const uint8_t stap_long[] = {0x18, 0x00, 0x09, 0x67, 0x42};
	const uint8_t stap_zero[] = {0x18, 0x00, 0x00, 0x67, 0x42};
	const uint8_t stap_odd[] = {0x18, 0x00, 0x01, 0x67, 0x00};
	const uint8_t forbidden[] = {0xe7, 0x42};
	const uint8_t reserved[] = {0x1e, 0x00};
	const uint8_t fu_short[] = {0x7c};
	struct rtpin_video v;
	struct rtpin r;

	r = with_payload(stap, sizeof(stap));
	ck_assert_int_eq(rtpin_h264(&r, &v), 0);
	ck_assert(v.key && !v.vcl);
	r = with_payload(fu_idr, sizeof(fu_idr));
	ck_assert_int_eq(rtpin_h264(&r, &v), 0);
	ck_assert(!v.key && v.vcl);
	r = with_payload(fu_mid, sizeof(fu_mid));
	ck_assert_int_eq(rtpin_h264(&r, &v), 0);
	ck_assert(!v.key && v.vcl);
	r = with_payload(slice, sizeof(slice));
	ck_assert_int_eq(rtpin_h264(&r, &v), 0);
	ck_assert(!v.key && v.vcl);
	r = with_payload(sps, sizeof(sps));
	ck_assert_int_eq(rtpin_h264(&r, &v), 0);
	ck_assert(v.key && !v.vcl);

	r = with_payload(stap_long, sizeof(stap_long));
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	r = with_payload(stap_zero, sizeof(stap_zero));
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	r = with_payload(stap_odd, sizeof(stap_odd));
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	r = with_payload(forbidden, sizeof(forbidden));
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	r = with_payload(reserved, sizeof(reserved));
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	r = with_payload(fu_short, sizeof(fu_short));
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	packet(12, 0);
	ck_assert_int_eq(parse(12, &r), 0);
	ck_assert_int_eq(rtpin_h264(&r, &v), -EBADMSG);
	ck_assert_int_eq(rtpin_vp8(&r, &v), -EBADMSG);
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
	tcase_add_test(tc, vp8_descriptors);
	tcase_add_test(tc, h264_nal_units);
	suite_add_tcase(s, tc);
	return check_run(s);
}
