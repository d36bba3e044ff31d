/* Transport stream files played as channels: pacing by the PCR, chunks of
 * seven packets, continuity across passes, and the files that cannot be
 * played. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/tsfile.h"

#include "check_run.h"

static su_home_t home[1];
static char err[256];
static char path[256];

static void setup(void)
{
	su_home_init(home);
	err[0] = '\0';
	snprintf(path, sizeof(path), "/tmp/check_tsfile.%ld.ts",
		 (long)getpid());
}

static void teardown(void)
{
	unlink(path);
	su_home_deinit(home);
}

/* Packet @a i of a made-up stream: PID 0x100, a payload, and a PCR when
 * @a pcr is not ~0. */
static void make_packet(uint8_t *p, unsigned cc, uint64_t pcr)
{
	memset(p, 0xff, TS_PACKET);
	p[0] = 0x47;
	p[1] = 0x01;
	p[2] = 0x00;
	if (pcr == ~UINT64_C(0)) {
		p[3] = (uint8_t)(0x10 | cc);
		return;
	}
	uint64_t base = pcr / 300, ext = pcr % 300;

	p[3] = (uint8_t)(0x30 | cc);
	p[4] = 7;
	p[5] = 0x10;
	p[6] = (uint8_t)(base >> 25);
	p[7] = (uint8_t)(base >> 17);
	p[8] = (uint8_t)(base >> 9);
	p[9] = (uint8_t)(base >> 1);
	p[10] = (uint8_t)((base & 1) << 7 | 0x7e | ext >> 8);
	p[11] = (uint8_t)ext;
}

static void write_file(const uint8_t *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

/* 20 packets, PCRs at 4 and 14, 1 ms apart: 0.1 ms a packet. */
static struct tsfile *made_up(void)
{
	uint8_t data[20 * TS_PACKET];
	struct tsfile *f = NULL;

	for (unsigned i = 0; i < 20; i++)
		make_packet(data + i * TS_PACKET, i & 15,
			    i == 4    ? 1000000
			    : i == 14 ? 1000000 + 27000
				      : ~UINT64_C(0));
	write_file(data, sizeof(data));
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)), 0);
	return f;
}

START_TEST(paced_by_pcr)
{
	struct tsfile *f = made_up();
	uint8_t buf[TS_PER_RTP * TS_PACKET];
	uint64_t at;

	ck_assert_uint_eq(tsfile_packets(f), 20);
	/* 20 packets of 2700 ticks (0.1 ms) each. */
	ck_assert_uint_eq(tsfile_duration(f), 20 * 2700);
	ck_assert_uint_eq(tsfile_bitrate(f), 20 * 188 * 8 * 10000 / 20);
	/* Chunks of 7, 7, 6: each due when its last packet is. */
	ck_assert_uint_eq(tsfile_next_due(f), 6 * 2700);
	ck_assert_uint_eq(tsfile_take(f, buf, &at), 7 * TS_PACKET);
	ck_assert_uint_eq(at, 0);
	ck_assert_uint_eq(tsfile_next_due(f), 13 * 2700);
	ck_assert_uint_eq(tsfile_take(f, buf, &at), 7 * TS_PACKET);
	ck_assert_uint_eq(at, 7 * 2700);
	ck_assert_uint_eq(tsfile_take(f, buf, &at), 6 * TS_PACKET);
	ck_assert_uint_eq(at, 14 * 2700);
	/* The next pass follows without a gap. */
	ck_assert_uint_eq(tsfile_next_due(f), 20 * 2700 + 6 * 2700);
	ck_assert_uint_eq(tsfile_take(f, buf, &at), 7 * TS_PACKET);
	ck_assert_uint_eq(at, 20 * 2700);
}
END_TEST

START_TEST(continuity_across_passes)
{
	struct tsfile *f = made_up();
	uint8_t buf[TS_PER_RTP * TS_PACKET];
	unsigned expect = 0, disc = 0;
	uint64_t at;

	/* Three passes: the counter runs 0..15 on and on, though the file
	 * holds 0..15, 0..3; only the second and third passes' first PCR
	 * says the time base changed. */
	for (unsigned chunk = 0; chunk < 9; chunk++) {
		size_t len = tsfile_take(f, buf, &at);

		for (size_t off = 0; off < len; off += TS_PACKET) {
			const uint8_t *p = buf + off;

			ck_assert_uint_eq(p[3] & 0x0f, expect);
			expect = (expect + 1) & 15;
			if ((p[3] & 0x20) && (p[5] & 0x80))
				disc++;
		}
		if (chunk == 2 || chunk == 5)
			ck_assert_uint_eq(disc, chunk == 2 ? 0 : 1);
	}
	ck_assert_uint_eq(disc, 2);
}
END_TEST

START_TEST(the_demo_channel)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");
	char demo[512];
	struct tsfile *f = NULL;
	uint8_t buf[TS_PER_RTP * TS_PACKET];
	uint64_t at, last = 0, rate;
	unsigned pat = 0;

	ck_assert_ptr_nonnull(src);
	snprintf(demo, sizeof(demo), "%s/etc/demo-news.ts", src);
	ck_assert_int_eq(tsfile_open(home, demo, &f, err, sizeof(err)), 0);
	/* scripts/make-demo-ts.sh: five seconds of programme at 400 kbit/s,
	 * 5.1 s with the multiplex's padding. */
	rate = tsfile_bitrate(f);
	ck_assert_uint_ge(rate, 390000);
	ck_assert_uint_le(rate, 410000);
	ck_assert_uint_ge(tsfile_duration(f), 49 * TS_CLOCK / 10);
	ck_assert_uint_le(tsfile_duration(f), 52 * TS_CLOCK / 10);
	for (size_t n = 0; n < tsfile_packets(f);) {
		size_t len = tsfile_take(f, buf, &at);

		ck_assert_uint_ge(at, last);
		last = at;
		n += len / TS_PACKET;
		for (size_t off = 0; off < len; off += TS_PACKET)
			pat += buf[off + 1] == 0x40 && buf[off + 2] == 0;
	}
	ck_assert_uint_gt(pat, 0);
}
END_TEST

START_TEST(files_that_cannot_play)
{
	uint8_t data[4 * TS_PACKET];
	struct tsfile *f = NULL;

	/* Not whole packets. */
	for (unsigned i = 0; i < 4; i++)
		make_packet(data + i * TS_PACKET, i, i * 27000);
	write_file(data, sizeof(data) - 1);
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "whole number"));
	/* Out of sync. */
	data[2 * TS_PACKET] = 0x48;
	write_file(data, sizeof(data));
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "packet 2 has no sync byte"));
	/* No clock to pace it by. */
	for (unsigned i = 0; i < 4; i++)
		make_packet(data + i * TS_PACKET, i, ~UINT64_C(0));
	write_file(data, sizeof(data));
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "fewer than two PCRs"));
	/* A clock that stands still. */
	for (unsigned i = 0; i < 4; i++)
		make_packet(data + i * TS_PACKET, i, 5000);
	write_file(data, sizeof(data));
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "does not advance"));
	/* Empty, and missing. */
	write_file(data, 0);
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)),
			 -EINVAL);
	unlink(path);
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_null(f);
}
END_TEST

START_TEST(pcr_wraps)
{
	uint8_t data[8 * TS_PACKET];
	const uint64_t wrap = (UINT64_C(1) << 33) * 300;
	struct tsfile *f = NULL;

	/* The 33-bit base wraps between packets 2 and 6: still 1 ms. */
	for (unsigned i = 0; i < 8; i++)
		make_packet(data + i * TS_PACKET, i,
			    i == 2   ? wrap - 13500
			    : i == 6 ? 13500
				     : ~UINT64_C(0));
	write_file(data, sizeof(data));
	ck_assert_int_eq(tsfile_open(home, path, &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(tsfile_duration(f), 8 * 27000 / 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tsfile");
	TCase *tc = tcase_create("tsfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, paced_by_pcr);
	tcase_add_test(tc, continuity_across_passes);
	tcase_add_test(tc, the_demo_channel);
	tcase_add_test(tc, files_that_cannot_play);
	tcase_add_test(tc, pcr_wraps);
	suite_add_tcase(s, tc);
	return check_run(s);
}
