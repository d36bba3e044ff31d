/* The media engine on a real su_root over loopback: a channel's multicast
 * feed received and relayed to legs, hostile packets on the feed and on a
 * leg, instant channel change, sources that stop when nobody needs them,
 * retargeted legs and the slate.  Each test has a group and ports of its
 * own; run it in a network namespace of its own (multicast on loopback). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/su_wait.h>

#include "media/media.h"
#include "media/tsfile.h"
#include "server/catalog.h"

#include "check_run.h"

#define FEED_PORT 42200
#define RX_PORT   42300 /* the members' ports: RX_PORT, RX_PORT + 2 */

static su_home_t home[1];
static su_root_t *root;
static struct media *m;
static int tx = -1; /* the feed's sender */
static int rx[3];   /* members */
static char group[32];

static const struct media_config base_cfg = {
    .bind_addr = "127.0.0.1",
    .port_min = 42000,
    .port_max = 42099,
    .multicast_ttl = 0,
    .multicast_if = "127.0.0.1",
    .instant_change = true,
};

static int udp_bound(unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void setup(void)
{
	struct in_addr ifaddr;

	su_init();
	su_home_init(home);
	root = su_root_create(NULL);
	ck_assert_ptr_nonnull(root);
	/* A group of each test's own (check runs each in a process). */
	snprintf(group, sizeof(group), "239.255.14.%d", 1 + getpid() % 250);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(tx, 0);
	inet_pton(AF_INET, "127.0.0.1", &ifaddr);
	ck_assert_int_eq(setsockopt(tx, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
				    sizeof(ifaddr)),
			 0);
	for (unsigned i = 0; i < 3; i++)
		rx[i] = udp_bound(RX_PORT + 2 * i);
}

static void teardown(void)
{
	m = media_destroy(m);
	for (unsigned i = 0; i < 3; i++)
		close(rx[i]);
	close(tx);
	su_root_destroy(root);
	su_home_deinit(home);
	su_deinit();
}

static struct channel feed_channel(const char *id, unsigned pt)
{
	struct channel ch = {
	    .id = id,
	    .name = id,
	    .media = pt == 33 ? CHANNEL_VIDEO : CHANNEL_AUDIO,
	    .pt = pt,
	    .group = group,
	    .port = FEED_PORT,
	};

	return ch;
}

/* Turn the loop for @a ms. */
static void step(unsigned ms)
{
	su_time64_t end = su_monotime(NULL) + (su_time64_t)ms * 1000000;

	for (su_time64_t now = su_monotime(NULL); now < end;
	     now = su_monotime(NULL))
		su_root_step(root, (su_duration_t)((end - now) / 1000000) + 1);
}

static void feed_send(const uint8_t *p, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(FEED_PORT)};

	inet_pton(AF_INET, group, &to.sin_addr);
	ck_assert_int_eq(
	    sendto(tx, p, len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)len);
}

/* An RTP header of version 2 with payload type @a pt into @a p. */
static void rtp_header(uint8_t *p, unsigned pt, uint16_t seq, uint32_t ts)
{
	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = (uint8_t)pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[11] = 0x42;
}

/* Packets waiting on member @a i's port; the last one's payload size in
 * @a last_len. */
static unsigned drain(unsigned i, size_t *last_len)
{
	uint8_t buf[2048];
	unsigned n = 0;
	ssize_t r;

	while ((r = recv(rx[i], buf, sizeof(buf), 0)) >= 0) {
		n++;
		if (last_len)
			*last_len = (size_t)r - 12;
	}
	return n;
}

START_TEST(hostile_padding_on_a_feed)
{
	struct channel ch = feed_channel("feed", 33);
	struct media_leg *leg = NULL;
	unsigned port = 0;
	uint8_t p[20], good[12 + 7 * 188];
	size_t len = 0;

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	step(50);
	/* 20 bytes, the P bit, and a last byte that claims 196 bytes of
	 * padding: 12 - 196 is a whole number of TS packets below zero. */
	rtp_header(p, 33, 1, 3600);
	p[0] |= 0x20;
	memset(p + 12, 0x47, sizeof(p) - 12);
	p[19] = 196;
	feed_send(p, sizeof(p));
	step(100);
	/* Still alive, and a good packet after it is relayed. */
	rtp_header(good, 33, 2, 7200);
	memset(good + 12, 0xff, sizeof(good) - 12);
	for (unsigned i = 0; i < 7; i++) {
		uint8_t *ts = good + 12 + i * 188;

		ts[0] = 0x47;
		ts[1] = 0x1f;
		ts[2] = 0xff;
		ts[3] = 0x10;
	}
	feed_send(good, sizeof(good));
	step(100);
	ck_assert_uint_eq(drain(0, &len), 1);
	ck_assert_uint_eq(len, 7 * 188);
	media_leg_destroy(leg);
}
END_TEST

static char keys[32];
static unsigned nkeys;

static void on_key(void *arg, struct media_leg *leg, char key)
{
	if (nkeys < sizeof(keys) - 1)
		keys[nkeys++] = key;
}

/* Member @a i sends @a len bytes to the leg's port @a port. */
static void member_send(unsigned i, unsigned port, const uint8_t *p, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	ck_assert_int_eq(
	    sendto(rx[i], p, len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)len);
}

/* An RFC 4733 event packet: key @a event, the E bit when @a end. */
static size_t event_packet(uint8_t *p, unsigned event, bool end, uint32_t ts)
{
	rtp_header(p, 101, (uint16_t)ts, ts);
	p[12] = (uint8_t)event;
	p[13] = end ? 0x80 | 10 : 10;
	p[14] = 0x03;
	p[15] = 0x20;
	return 16;
}

static void audio_packet(uint8_t *p, uint16_t seq)
{
	rtp_header(p, 0, seq, 160u * seq);
	memset(p + 12, 0xff, 160);
}

START_TEST(retarget_moves_the_leg)
{
	struct channel ch = feed_channel("radio", 0);
	struct media_leg *leg = NULL;
	unsigned port = 0;
	uint8_t p[172];

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0, &leg, &port),
	    0);
	media_leg_on_dtmf(leg, 101, on_key, NULL);
	step(50);
	audio_packet(p, 1);
	feed_send(p, sizeof(p));
	step(50);
	ck_assert_uint_eq(drain(0, NULL), 1);
	ck_assert_uint_eq(drain(1, NULL), 0);
	/* A re-INVITE moved the member to RX_PORT + 2. */
	ck_assert_int_eq(media_leg_retarget(leg, "127.0.0.1", RX_PORT + 2), 0);
	for (uint16_t i = 2; i < 5; i++) {
		audio_packet(p, i);
		feed_send(p, sizeof(p));
	}
	step(50);
	ck_assert_uint_eq(drain(0, NULL), 0);
	ck_assert_uint_eq(drain(1, NULL), 3);
	/* Its keys come from the new address now; the old one is a
	 * stranger. */
	member_send(0, port, p, event_packet(p, 1, true, 800));
	step(50);
	ck_assert_uint_eq(nkeys, 0);
	member_send(1, port, p, event_packet(p, 2, true, 1600));
	step(50);
	ck_assert_uint_eq(nkeys, 1);
	ck_assert_int_eq(keys[0], '2');
	/* An address that is not one leaves the leg where it was. */
	ck_assert_int_eq(media_leg_retarget(leg, "not-an-address", 4000),
			 -EINVAL);
	ck_assert_int_eq(media_leg_retarget(leg, "::1", 4000), -EINVAL);
	audio_packet(p, 5);
	feed_send(p, sizeof(p));
	step(50);
	ck_assert_uint_eq(drain(1, NULL), 1);
	media_leg_destroy(leg);
}
END_TEST

/* Whether this network namespace has joined @a g (/proc/net/igmp lists
 * each group as the hex of its address in memory order). */
static bool joined(const char *g)
{
	struct in_addr a;
	char hex[16], line[256];
	bool found = false;
	FILE *f = fopen("/proc/net/igmp", "r");

	ck_assert_ptr_nonnull(f);
	inet_pton(AF_INET, g, &a);
	snprintf(hex, sizeof(hex), "%08X", a.s_addr);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, hex))
			found = true;
	fclose(f);
	return found;
}

/* Every way a packet can lie about its lengths, on a feed: each is
 * counted and dropped, and the good packet after them goes through. */
START_TEST(malformed_packets_on_a_feed)
{
	struct channel ch = feed_channel("feed", 33);
	struct media_leg *leg = NULL;
	unsigned port = 0, bad = 0;
	uint8_t p[2100];
	size_t len = 0;

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	step(50);
	/* Shorter than a header. */
	rtp_header(p, 33, 1, 0);
	feed_send(p, 11), bad++;
	/* Version 1. */
	p[0] = 0x40;
	feed_send(p, 200), bad++;
	/* Fifteen CSRCs in 60 bytes. */
	rtp_header(p, 33, 1, 0);
	p[0] |= 0x0f;
	feed_send(p, 60), bad++;
	/* An extension header cut short, then one whose length runs past
	 * the end. */
	rtp_header(p, 33, 1, 0);
	p[0] |= 0x10;
	feed_send(p, 14), bad++;
	p[14] = 0xff;
	p[15] = 0xff;
	feed_send(p, 200), bad++;
	/* Padding of 0, padding longer than the payload, padding into the
	 * CSRC list, and the crash of old: 12 - 196 bytes of payload. */
	rtp_header(p, 33, 1, 0);
	p[0] |= 0x20;
	p[199] = 0;
	feed_send(p, 200), bad++;
	p[199] = 189;
	feed_send(p, 200), bad++;
	p[0] |= 0x02;
	p[199] = 185;
	feed_send(p, 200), bad++;
	rtp_header(p, 33, 1, 0);
	p[0] |= 0x20;
	p[19] = 196;
	feed_send(p, 20), bad++;
	/* Longer than any packet it reads (2048 bytes): not cut short. */
	rtp_header(p, 33, 1, 0);
	feed_send(p, 2100), bad++;
	/* RTCP (a receiver report) sent to the RTP port. */
	rtp_header(p, 0, 1, 0);
	p[1] = 201;
	feed_send(p, 32), bad++;
	/* A header and nothing after it: nothing to relay. */
	rtp_header(p, 33, 1, 0);
	feed_send(p, 12), bad++;
	step(100);
	ck_assert_uint_eq(drain(0, NULL), 0);
	ck_assert_uint_eq(media_packets_bad(m), bad);
	ck_assert_uint_eq(media_packets_in(m), 0);
	/* A good one with everything: two CSRCs, an extension of one word
	 * and 3 bytes of padding around a 188-byte TS packet. */
	rtp_header(p, 33, 2, 3600);
	p[0] |= 0x20 | 0x10 | 2;
	memset(p + 12, 0, 8 + 8);
	p[12 + 8 + 3] = 1;
	memset(p + 28, 0xff, 188);
	p[28] = 0x47;
	p[29] = 0x1f;
	p[30] = 0xff;
	p[31] = 0x10;
	p[216] = 0;
	p[217] = 0;
	p[218] = 3;
	feed_send(p, 219);
	step(100);
	ck_assert_uint_eq(drain(0, &len), 1);
	ck_assert_uint_eq(len, 188);
	ck_assert_uint_eq(media_packets_in(m), 1);
	media_leg_destroy(leg);
}
END_TEST

/* Seven TS packets of a feed: a PAT, then the video PID @a key (with a PCR
 * and, when @a keyframe, the random_access_indicator), then nulls. */
static size_t ts_packet_of(uint8_t *p, uint16_t seq, bool keyframe)
{
	rtp_header(p, 33, seq, 3600u * seq);
	memset(p + 12, 0xff, 7 * 188);
	for (unsigned i = 0; i < 7; i++) {
		uint8_t *t = p + 12 + i * 188;

		t[0] = 0x47;
		t[1] = 0x1f;
		t[2] = 0xff;
		t[3] = 0x10;
	}
	/* The PAT. */
	p[12 + 1] = 0x40;
	p[12 + 2] = 0x00;
	/* The video: payload_unit_start, an adaptation field with a PCR. */
	p[12 + 188 + 1] = 0x41;
	p[12 + 188 + 2] = 0x00;
	p[12 + 188 + 3] = 0x30;
	p[12 + 188 + 4] = 7;
	p[12 + 188 + 5] = (uint8_t)(0x10 | (keyframe ? 0x40 : 0));
	/* Hostile lengths in the cache's scan: an adaptation field longer
	 * than a packet. */
	p[12 + 2 * 188 + 1] = 0x41;
	p[12 + 2 * 188 + 2] = 0x00;
	p[12 + 2 * 188 + 3] = 0x30;
	p[12 + 2 * 188 + 4] = 0xff;
	p[12 + 2 * 188 + 5] = 0x50;
	return 12 + 7 * 188;
}

START_TEST(instant_change_from_a_feed)
{
	struct channel ch = feed_channel("feed", 33);
	struct media_leg *leg = NULL;
	unsigned port = 0;
	uint8_t p[12 + 7 * 188];

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	step(50);
	/* Before a keyframe: nothing to give a new leg. */
	feed_send(p, ts_packet_of(p, 1, false));
	step(50);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	ck_assert_uint_eq(drain(0, NULL), 0);
	media_leg_destroy(leg);
	/* After one: the new leg gets the packets from its PAT on at once,
	 * less the one that is not a TS packet. */
	feed_send(p, ts_packet_of(p, 2, true));
	feed_send(p, ts_packet_of(p, 3, false));
	step(50);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	ck_assert_uint_eq(drain(0, NULL), 2); /* 12 packets: 7 + 5 */
	media_leg_destroy(leg);
}
END_TEST

START_TEST(keys_from_the_member_only)
{
	struct channel ch = feed_channel("radio", 0);
	struct media_leg *leg = NULL;
	unsigned port = 0;
	uint8_t p[64];

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0, &leg, &port),
	    0);
	media_leg_on_dtmf(leg, 101, on_key, NULL);
	/* A key: its end is sent three times, reported once; a key that has
	 * not ended is not reported. */
	member_send(0, port, p, event_packet(p, 5, false, 800));
	for (unsigned i = 0; i < 3; i++)
		member_send(0, port, p, event_packet(p, 5, true, 800));
	member_send(0, port, p, event_packet(p, 11, true, 1600));
	step(50);
	ck_assert_uint_eq(nkeys, 2);
	ck_assert_str_eq(keys, "5#");
	/* A stranger's key. */
	member_send(1, port, p, event_packet(p, 7, true, 2400));
	/* Events too short, padded into the header, not DTMF (16: flash),
	 * and the hostile padding of the feed's crash. */
	event_packet(p, 3, true, 3200);
	member_send(0, port, p, 14);
	p[0] |= 0x20;
	p[15] = 200;
	member_send(0, port, p, 16);
	p[15] = 2;
	member_send(0, port, p, 16);
	member_send(0, port, p, event_packet(p, 16, true, 4000));
	rtp_header(p, 101, 9, 4800);
	p[0] |= 0x20;
	p[19] = 196;
	member_send(0, port, p, 20);
	step(50);
	ck_assert_uint_eq(nkeys, 2);
	ck_assert_uint_eq(media_packets_bad(m), 4);
	/* Still listening. */
	member_send(0, port, p, event_packet(p, 9, true, 5600));
	step(50);
	ck_assert_str_eq(keys, "5#9");
	media_leg_destroy(leg);
}
END_TEST

/* A feed runs while legs use it: the group is left when the last one
 * goes, and joined again for the next. */
START_TEST(feed_stops_with_its_last_leg)
{
	struct channel ch = feed_channel("radio", 0);
	struct media_leg *a = NULL, *b = NULL;
	unsigned port = 0;
	uint8_t p[172];

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert(joined(group));
	ck_assert_int_eq(
	    media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0, &a, &port),
	    0);
	ck_assert_int_eq(media_leg_create(m, "radio", "127.0.0.1", RX_PORT + 2,
					  0, &b, &port),
			 0);
	audio_packet(p, 1);
	feed_send(p, sizeof(p));
	step(50);
	ck_assert_uint_eq(media_packets_in(m), 1);
	ck_assert_uint_eq(drain(0, NULL) + drain(1, NULL), 2);
	a = media_leg_destroy(a);
	ck_assert(joined(group));
	b = media_leg_destroy(b);
	ck_assert(!joined(group));
	feed_send(p, sizeof(p));
	step(50);
	ck_assert_uint_eq(media_packets_in(m), 1);
	/* The next member joins it again. */
	ck_assert_int_eq(
	    media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0, &a, &port),
	    -ENOENT);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0, &a, &port),
	    0);
	ck_assert(joined(group));
	feed_send(p, sizeof(p));
	step(50);
	ck_assert_uint_eq(media_packets_in(m), 2);
	ck_assert_uint_eq(drain(0, NULL), 1);
	media_leg_destroy(a);
	ck_assert(!joined(group));
}
END_TEST

/* A feed started for a leg that could not be made (no port left), or
 * for nothing, is left by the next turn of the loop. */
START_TEST(feed_no_leg_took)
{
	struct media_config cfg = base_cfg;
	struct channel ch = feed_channel("radio", 0);
	struct channel other = feed_channel("other", 8);
	struct media_leg *a = NULL, *b = NULL;
	unsigned port = 0;
	char g2[32];

	snprintf(g2, sizeof(g2), "239.255.15.%d", 1 + getpid() % 250);
	other.group = g2;
	cfg.port_max = cfg.port_min + 1; /* one leg */
	m = media_create(home, root, &cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0, &a, &port),
	    0);
	ck_assert_int_eq(media_source_start(m, &other), 0);
	ck_assert(joined(g2));
	ck_assert_int_eq(
	    media_leg_create(m, "other", "127.0.0.1", RX_PORT, 8, &b, &port),
	    -EADDRINUSE);
	ck_assert(!joined(g2));
	/* A bad address: the same. */
	ck_assert_int_eq(media_source_start(m, &other), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "other", "localhost", RX_PORT, 8, &b, &port),
	    -EINVAL);
	ck_assert(!joined(g2));
	/* Started, then nobody came. */
	ck_assert_int_eq(media_source_start(m, &other), 0);
	ck_assert(joined(g2));
	step(20);
	ck_assert(!joined(g2));
	/* A switch away leaves the old group. */
	ck_assert_int_eq(media_source_start(m, &other), 0);
	ck_assert_int_eq(media_leg_switch(a, "other"), 0);
	ck_assert(!joined(group));
	ck_assert(joined(g2));
	step(20);
	ck_assert(joined(g2));
	media_leg_destroy(a);
	ck_assert(!joined(g2));
}
END_TEST

/* What must run whoever watches is pinned: an instant-change feed and a
 * generated channel, until the daemon unpins a channel a reload removed. */
START_TEST(pinned_until_unpinned)
{
	struct channel feed = feed_channel("feed", 33);
	struct channel tone = {.id = "tone",
			       .name = "tone",
			       .media = CHANNEL_AUDIO,
			       .pt = 0,
			       .generate = "tone:440"};
	struct media_leg *leg = NULL;
	unsigned port = 0;

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &feed), 0);
	ck_assert_int_eq(media_source_start(m, &tone), 0);
	step(50);
	ck_assert(joined(group));
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	leg = media_leg_destroy(leg);
	step(20);
	ck_assert(joined(group));
	/* Unpinned with a member on it: it stays until the member goes. */
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	ck_assert_int_eq(media_source_unpin(m, "feed"), 0);
	step(20);
	ck_assert(joined(group));
	leg = media_leg_destroy(leg);
	ck_assert(!joined(group));
	ck_assert_int_eq(media_source_unpin(m, "feed"), -ENOENT);
	/* The generated channel: unpinned, it stops at once. */
	ck_assert_int_eq(
	    media_leg_create(m, "tone", "127.0.0.1", RX_PORT, 0, &leg, &port),
	    0);
	step(100);
	ck_assert_uint_gt(drain(0, NULL), 0);
	leg = media_leg_destroy(leg);
	ck_assert_int_eq(media_source_unpin(m, "tone"), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "tone", "127.0.0.1", RX_PORT, 0, &leg, &port),
	    -ENOENT);
	/* A reload that brings it back pins it again. */
	ck_assert_int_eq(media_source_start(m, &tone), 0);
	step(20);
	ck_assert_int_eq(
	    media_leg_create(m, "tone", "127.0.0.1", RX_PORT, 0, &leg, &port),
	    0);
	media_leg_destroy(leg);
}
END_TEST

static const char *demo_ts(char *buf, size_t len)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");

	ck_assert_ptr_nonnull(src);
	snprintf(buf, len, "%s/etc/demo-news.ts", src);
	return buf;
}

/* The slate is read when the engine starts: a missing or bad file is
 * refused then, and a good one plays after the file is gone. */
START_TEST(slate_read_at_start)
{
	struct media_config cfg = base_cfg;
	struct channel ch = feed_channel("feed", 33);
	struct media_leg *leg = NULL;
	char demo[512], copy[64], cmd[700];
	unsigned port = 0, got;
	size_t len = 0;
	FILE *f;

	cfg.instant_change = false; /* the feed is not kept warm */
	cfg.slate_ts = "/nonexistent/slate.ts";
	ck_assert_ptr_null(media_create(home, root, &cfg));
	snprintf(copy, sizeof(copy), "/tmp/check_media.%ld.ts", (long)getpid());
	f = fopen(copy, "w");
	ck_assert_ptr_nonnull(f);
	fputs("not a transport stream", f);
	fclose(f);
	cfg.slate_ts = copy;
	ck_assert_ptr_null(media_create(home, root, &cfg));
	snprintf(cmd, sizeof(cmd), "cp %s %s", demo_ts(demo, sizeof(demo)),
		 copy);
	ck_assert_int_eq(system(cmd), 0);
	m = media_create(home, root, &cfg);
	ck_assert_ptr_nonnull(m);
	unlink(copy);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	ck_assert_int_eq(media_leg_slate(leg), 0);
	ck_assert(!joined(group)); /* the feed had no other leg */
	step(300);
	got = drain(0, &len);
	/* 400 kbit/s: about 27 packets of 7 in 300 ms. */
	ck_assert_uint_gt(got, 10);
	ck_assert_uint_eq(len, 7 * 188);
	/* It stops with its last leg, and goes on from there for the
	 * next. */
	leg = media_leg_destroy(leg);
	step(100);
	ck_assert_uint_eq(drain(0, NULL), 0);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	ck_assert_int_eq(media_leg_slate(leg), 0);
	step(300);
	ck_assert_uint_gt(drain(0, NULL), 10);
	media_leg_destroy(leg);
}
END_TEST

/* No slate_ts: an MP2T leg has no slate and stays where it is; an audio
 * leg gets the beeps. */
START_TEST(slate_without_a_file)
{
	struct channel ch = feed_channel("feed", 33);
	struct media_leg *leg = NULL, *audio = NULL;
	unsigned port = 0;

	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(
	    media_leg_create(m, "feed", "127.0.0.1", RX_PORT, 33, &leg, &port),
	    0);
	ck_assert_int_eq(media_leg_slate(leg), -ENOENT);
	ck_assert_int_eq(media_leg_create(m, "feed", "127.0.0.1", RX_PORT + 2,
					  0, &audio, &port),
			 0);
	ck_assert_int_eq(media_leg_slate(audio), 0);
	step(200);
	ck_assert_uint_gt(drain(1, NULL), 3);
	media_leg_destroy(audio);
	media_leg_destroy(leg);
}
END_TEST

struct got {
	unsigned n;
	uint16_t seq; /* of the last */
	uint32_t ssrc;
	bool marker;
};

/* Packets waiting on member @a i's port: how many, and the last one's
 * header. */
static struct got got(unsigned i)
{
	struct got g = {0};
	uint8_t buf[2048];

	while (recv(rx[i], buf, sizeof(buf), 0) >= 12) {
		g.n++;
		g.seq = (uint16_t)(buf[2] << 8 | buf[3]);
		g.ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
			 (uint32_t)buf[10] << 8 | buf[11];
		g.marker = buf[1] & 0x80;
	}
	return g;
}

/* Three legs on one feed, one switched to another and back, one gone:
 * each keeps its SSRC and its sequence, and marks the first packet of a
 * new source. */
START_TEST(switch_keeps_each_legs_timeline)
{
	struct channel a = feed_channel("a", 0), b = feed_channel("b", 0);
	struct media_leg *leg[3];
	struct got g[3], h;
	unsigned port = 0;
	uint8_t p[172];
	char g2[32];

	snprintf(g2, sizeof(g2), "239.255.15.%d", 1 + getpid() % 250);
	b.group = g2;
	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &a), 0);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(media_leg_create(m, "a", "127.0.0.1",
						  RX_PORT + 2 * i, 0, &leg[i],
						  &port),
				 0);
	for (uint16_t i = 1; i <= 2; i++) {
		audio_packet(p, i);
		feed_send(p, sizeof(p));
	}
	step(50);
	for (unsigned i = 0; i < 3; i++) {
		g[i] = got(i);
		ck_assert_uint_eq(g[i].n, 2);
		ck_assert(!g[i].marker);
	}
	/* Leg 1 to b: the next packet it gets is b's, marked. */
	ck_assert_int_eq(media_source_start(m, &b), 0);
	ck_assert_int_eq(media_leg_switch(leg[1], "b"), 0);
	audio_packet(p, 3);
	feed_send(p, sizeof(p));
	step(30);
	h = got(1);
	ck_assert_uint_eq(h.n, 0);
	ck_assert_uint_eq(got(0).n + got(2).n, 2);
	{
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_port = htons(FEED_PORT)};

		inet_pton(AF_INET, g2, &to.sin_addr);
		audio_packet(p, 1);
		ck_assert_int_eq(sendto(tx, p, sizeof(p), 0,
					(struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(p));
	}
	step(30);
	h = got(1);
	ck_assert_uint_eq(h.n, 1);
	ck_assert(h.marker);
	ck_assert_uint_eq(h.ssrc, g[1].ssrc);
	ck_assert_uint_eq(h.seq, (uint16_t)(g[1].seq + 1));
	/* Leg 0 goes: leg 2 (moved in its place) carries on in sequence. */
	leg[0] = media_leg_destroy(leg[0]);
	audio_packet(p, 4);
	feed_send(p, sizeof(p));
	step(30);
	h = got(2);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_uint_eq(h.ssrc, g[2].ssrc);
	ck_assert_uint_eq(h.seq, (uint16_t)(g[2].seq + 2));
	ck_assert(!h.marker);
	ck_assert_uint_eq(got(0).n, 0);
	/* Leg 1 back to a. */
	ck_assert_int_eq(media_leg_switch(leg[1], "a"), 0);
	audio_packet(p, 5);
	feed_send(p, sizeof(p));
	step(30);
	h = got(1);
	ck_assert_uint_eq(h.n, 1);
	ck_assert(h.marker);
	ck_assert_uint_eq(h.seq, (uint16_t)(g[1].seq + 2));
	ck_assert(!joined(g2)); /* b had no one left */
	media_leg_destroy(leg[1]);
	media_leg_destroy(leg[2]);
}
END_TEST

/* A socket that has joined @a g:@a port, as a multicast member would. */
static int mcast_member(const char *g, unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	struct ip_mreq mr = {0};
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, g, &sin.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	inet_pton(AF_INET, g, &mr.imr_multiaddr);
	inet_pton(AF_INET, "127.0.0.1", &mr.imr_interface);
	ck_assert_int_eq(
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
	return fd;
}

/* Packets on @a fd: how many, and whether their sequence numbers follow
 * one another from one SSRC. */
static unsigned group_count(int fd, size_t *len, bool *in_order)
{
	uint8_t buf[2048];
	unsigned n = 0;
	uint16_t seq = 0;
	uint32_t ssrc = 0;
	ssize_t r;

	*in_order = true;
	while ((r = recv(fd, buf, sizeof(buf), 0)) >= 12) {
		uint16_t s = (uint16_t)(buf[2] << 8 | buf[3]);
		uint32_t id = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
			      (uint32_t)buf[10] << 8 | buf[11];

		if (n && (s != (uint16_t)(seq + 1) || id != ssrc))
			*in_order = false;
		if (buf[0] != 0x80)
			*in_order = false;
		seq = s;
		ssrc = id;
		*len = (size_t)r - 12;
		n++;
	}
	return n;
}

/* The channels the server plays go to their groups as a headend sends
 * them: a tone every 20 ms, a transport stream at its PCR's pace. */
START_TEST(generated_channels_send_to_their_groups)
{
	char g2[32], demo[512], gen[600];
	struct channel tone = {.id = "tone",
			       .name = "tone",
			       .media = CHANNEL_AUDIO,
			       .pt = 8,
			       .group = group,
			       .port = FEED_PORT,
			       .generate = "tone:660"};
	struct channel ts = tone;
	int a, v;
	unsigned na, nv;
	size_t la = 0, lv = 0;
	bool oa, ov;

	snprintf(g2, sizeof(g2), "239.255.15.%d", 1 + getpid() % 250);
	snprintf(gen, sizeof(gen), "ts:%s", demo_ts(demo, sizeof(demo)));
	ts.id = "ts";
	ts.media = CHANNEL_VIDEO;
	ts.pt = 33;
	ts.group = g2;
	ts.generate = gen;
	a = mcast_member(group, FEED_PORT);
	v = mcast_member(g2, FEED_PORT);
	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &tone), 0);
	ck_assert_int_eq(media_source_start(m, &ts), 0);
	step(1000);
	na = group_count(a, &la, &oa);
	nv = group_count(v, &lv, &ov);
	/* 50 a second; 400 kbit/s in chunks of 7 packets is 38 a second. */
	ck_assert_uint_ge(na, 40);
	ck_assert_uint_le(na, 52);
	ck_assert_uint_eq(la, 160);
	ck_assert(oa);
	ck_assert_uint_ge(nv, 30);
	ck_assert_uint_le(nv, 42);
	ck_assert_uint_eq(lv % 188, 0);
	ck_assert(ov);
	close(a);
	close(v);
}
END_TEST

/* -- channels of separate streams ---------------------------------------- */

/* One packet as a member got it. */
struct pkt {
	unsigned pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
	uint8_t payload[64];
	size_t len;
};

/* Up to @a max packets waiting on member @a i's port. */
static unsigned got_all(unsigned i, struct pkt *out, unsigned max)
{
	uint8_t buf[2048];
	unsigned n = 0;
	ssize_t r;

	while ((r = recv(rx[i], buf, sizeof(buf), 0)) >= 12) {
		struct pkt *x = &out[n < max ? n : max - 1];

		x->pt = buf[1] & 0x7f;
		x->marker = buf[1] & 0x80;
		x->seq = (uint16_t)(buf[2] << 8 | buf[3]);
		x->ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
			(uint32_t)buf[6] << 8 | buf[7];
		x->ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
			  (uint32_t)buf[10] << 8 | buf[11];
		x->len = (size_t)r - 12;
		memcpy(x->payload, buf + 12,
		       x->len < sizeof(x->payload) ? x->len
						   : sizeof(x->payload));
		n++;
	}
	return n;
}

/* To group @a g, port @a port: RTP of type @a pt, with @a payload. */
static void group_send(const char *g, unsigned port, unsigned pt, bool marker,
		       uint16_t seq, uint32_t ts, const uint8_t *payload,
		       size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	uint8_t p[256];

	ck_assert_uint_le(len, sizeof(p) - 12);
	rtp_header(p, pt, seq, ts);
	if (marker)
		p[1] |= 0x80;
	memcpy(p + 12, payload, len);
	inet_pton(AF_INET, g, &to.sin_addr);
	ck_assert_int_eq(
	    sendto(tx, p, 12 + len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)(12 + len));
}

/* VP8 (RFC 7741), as ffmpeg sends it: X, S on a frame's first packet; I;
 * a 7-bit PictureID; a key frame's tag and start code. */
static size_t vp8(uint8_t *p, bool first, bool key, unsigned picture_id)
{
	const uint8_t tag[] = {key ? 0x10 : 0x11,
			       0x02,
			       0x00,
			       0x9d,
			       0x01,
			       0x2a,
			       0xe0,
			       0x01,
			       0x0e,
			       0x01};

	p[0] = first ? 0x90 : 0x80;
	p[1] = 0x80;
	p[2] = (uint8_t)(picture_id & 0x7f);
	memcpy(p + 3, tag, sizeof(tag));
	return 3 + sizeof(tag);
}

/* Two channels of a picture and its sound: red (VP8, PCMU) on @a g1, blue
 * (H.264, Opus) on @a g2, video on FEED_PORT, audio on FEED_PORT + 2. */
static struct channel av_channel(const char *id, const char *g, bool h264)
{
	struct channel ch = {
	    .id = id,
	    .name = id,
	    .media = CHANNEL_STREAMS,
	    .pt = h264 ? 97 : 96,
	    .group = g,
	    .port = FEED_PORT,
	    .n_streams = 2,
	    .streams = {{CHANNEL_VIDEO, h264 ? 97 : 96, h264 ? "H264" : "VP8",
			 90000, 0, NULL, g, FEED_PORT, NULL},
			{CHANNEL_AUDIO, h264 ? 111 : 0, h264 ? "opus" : "PCMU",
			 h264 ? 48000 : 8000, h264 ? 2 : 0, NULL, g,
			 FEED_PORT + 2, NULL}},
	};

	return ch;
}

/* A member's two legs, a stream each: the video's packets start at a
 * keyframe (VP8's, then H.264's SPS before a slice), carry the payload
 * type the member agreed, their marker bits as the feed sent them, and
 * VP8 PictureIDs that go on from the leg's last; the audio's first packet
 * of a new source is marked; each keeps its SSRC and sequence, and its
 * timeline steps by the time it sent nothing.  RTCP from the member is no
 * bad packet. */
START_TEST(streams_start_at_keyframes_with_the_agreed_types)
{
	char g1[32], g2[32];
	struct channel red, blue;
	struct media_leg *video = NULL, *audio = NULL;
	unsigned vport = 0, aport = 0;
	struct pkt k[16], a[16];
	uint8_t pl[64];
	size_t n;
	uint64_t bad;

	struct media_config cfg = base_cfg;

	snprintf(g1, sizeof(g1), "239.255.16.%d", 1 + getpid() % 250);
	snprintf(g2, sizeof(g2), "239.255.17.%d", 1 + getpid() % 250);
	red = av_channel("red", g1, false);
	blue = av_channel("blue", g2, true);
	/* without instant change: each switch waits for a keyframe */
	cfg.instant_change = false;
	m = media_create(home, root, &cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &red), 0);
	ck_assert_int_eq(media_leg_create_stream(m, "red", 0, "127.0.0.1",
						 RX_PORT, 100, &video, &vport),
			 0);
	ck_assert_int_eq(media_leg_create_stream(m, "red", 1, "127.0.0.1",
						 RX_PORT + 2, 0, &audio,
						 &aport),
			 0);
	media_leg_chain(video, audio);
	ck_assert_ptr_eq(media_leg_next(video), audio);
	ck_assert_uint_eq(media_leg_port(audio), aport);
	/* not a one-stream channel's leg, nor a stream of one */
	ck_assert_int_eq(media_leg_switch(video, "red"), -ENOENT);
	ck_assert_int_eq(media_leg_slate(video), -ENOENT);
	ck_assert_int_eq(media_leg_create_stream(m, "red", 2, "127.0.0.1",
						 RX_PORT + 4, 0, &audio,
						 &aport),
			 -ENOENT);
	ck_assert_ptr_eq(media_leg_next(video), audio);
	step(30);

	/* An inter frame: nothing yet.  Sound: at once, PCMU, marked. */
	n = vp8(pl, true, false, 19);
	group_send(g1, FEED_PORT, 96, true, 1, 1000, pl, n);
	for (uint16_t i = 0; i < 3; i++)
		group_send(g1, FEED_PORT + 2, 0, false, i, 160u * i, pl, 20);
	/* a packet of another payload type on the group is not the
	 * stream's */
	group_send(g1, FEED_PORT + 2, 8, false, 3, 480, pl, 20);
	step(50);
	ck_assert_uint_eq(got_all(0, k, 16), 0);
	ck_assert_uint_eq(got_all(1, a, 16), 3);
	ck_assert(a[0].marker && !a[1].marker);
	ck_assert_uint_eq(a[0].pt, 0);
	ck_assert_uint_eq(a[1].ts - a[0].ts, 160);
	ck_assert_uint_eq((uint16_t)(a[2].seq - a[0].seq), 2);

	/* A key frame in two packets, then an inter frame. */
	n = vp8(pl, true, true, 20);
	group_send(g1, FEED_PORT, 96, false, 2, 4600, pl, n);
	n = vp8(pl, false, false, 20);
	group_send(g1, FEED_PORT, 96, true, 3, 4600, pl, n);
	n = vp8(pl, true, false, 21);
	group_send(g1, FEED_PORT, 96, true, 4, 8200, pl, n);
	step(50);
	ck_assert_uint_eq(got_all(0, k, 16), 3);
	ck_assert_uint_eq(k[0].pt, 100);
	ck_assert(!k[0].marker && k[1].marker && k[2].marker);
	ck_assert_uint_eq(k[0].ts, k[1].ts);
	ck_assert_uint_eq(k[2].ts - k[1].ts, 3600);
	ck_assert_uint_eq((uint16_t)(k[1].seq - k[0].seq), 1);
	ck_assert_uint_eq((uint16_t)(k[2].seq - k[1].seq), 1);
	ck_assert_uint_eq(k[0].payload[2], 20);
	ck_assert_uint_eq(k[2].payload[2], 21);
	ck_assert_uint_eq(k[0].len, 13);
	ck_assert(k[0].ssrc != a[0].ssrc);

	/* To blue: H.264 in payload type 102, Opus in 111. */
	struct pkt before = k[2], abefore = a[2];

	ck_assert_int_eq(media_source_start(m, &blue), 0);
	ck_assert_int_eq(media_leg_switch_stream(video, "blue", 0, 102), 0);
	ck_assert_int_eq(media_leg_switch_stream(audio, "blue", 1, 111), 0);
	ck_assert_int_eq(media_leg_switch_stream(video, "nosuch", 0, 102),
			 -ENOENT);
	step(200);
	{
		/* An IDR without its SPS; then an access unit whose SPS comes
		 * after a slice of it: no start inside a picture. */
		const uint8_t fu_idr[] = {0x7c, 0x85, 0xb8, 0x00};
		const uint8_t slice[] = {0x41, 0x9a, 0x00};
		const uint8_t stap[] = {0x18, 0x00, 0x04, 0x67, 0x42, 0xc0,
					0x1f, 0x00, 0x02, 0x68, 0xce};

		group_send(g2, FEED_PORT, 97, true, 50, 90000, fu_idr,
			   sizeof(fu_idr));
		group_send(g2, FEED_PORT, 97, false, 51, 93600, slice,
			   sizeof(slice));
		group_send(g2, FEED_PORT, 97, true, 52, 93600, stap,
			   sizeof(stap));
		step(30);
		ck_assert_uint_eq(got_all(0, k, 16), 0);
		/* SPS and PPS, then the IDR: from here on */
		group_send(g2, FEED_PORT, 97, false, 53, 97200, stap,
			   sizeof(stap));
		group_send(g2, FEED_PORT, 97, true, 54, 97200, fu_idr,
			   sizeof(fu_idr));
		group_send(g2, FEED_PORT, 97, true, 55, 100800, slice,
			   sizeof(slice));
		group_send(g2, FEED_PORT + 2, 111, false, 7, 48000, pl, 30);
		group_send(g2, FEED_PORT + 2, 111, false, 8, 48960, pl, 30);
		step(50);
	}
	ck_assert_uint_eq(got_all(0, k, 16), 3);
	ck_assert_uint_eq(k[0].pt, 102);
	ck_assert_uint_eq(k[0].ssrc, before.ssrc);
	ck_assert_uint_eq((uint16_t)(k[0].seq - before.seq), 1);
	ck_assert(!k[0].marker && k[1].marker);
	ck_assert_uint_eq(k[0].payload[0], 0x18);
	ck_assert_uint_eq(k[1].ts, k[0].ts);
	ck_assert_uint_eq(k[2].ts - k[1].ts, 3600);
	/* the time it sent nothing, some 280 ms, at 90 kHz */
	ck_assert_uint_ge(k[0].ts - before.ts, 90000u / 5);
	ck_assert_uint_le(k[0].ts - before.ts, 90000u * 2);
	ck_assert_uint_eq(got_all(1, a, 16), 2);
	ck_assert_uint_eq(a[0].pt, 111);
	ck_assert(a[0].marker && !a[1].marker);
	ck_assert_uint_eq(a[0].ssrc, abefore.ssrc);
	ck_assert_uint_eq((uint16_t)(a[0].seq - abefore.seq), 1);
	ck_assert_uint_eq(a[1].ts - a[0].ts, 960);
	/* red is left: nobody on it */
	ck_assert(!joined(g1));

	/* Back to red: its key frame's PictureID 5 goes out as the next of
	 * the leg's own (21 + 1), and on from there. */
	ck_assert_int_eq(media_source_start(m, &red), 0);
	ck_assert_int_eq(media_leg_switch_stream(video, "red", 0, 100), 0);
	step(20);
	n = vp8(pl, true, true, 5);
	group_send(g1, FEED_PORT, 96, true, 9, 500, pl, n);
	n = vp8(pl, true, false, 6);
	group_send(g1, FEED_PORT, 96, true, 10, 4100, pl, n);
	step(50);
	ck_assert_uint_eq(got_all(0, k, 16), 2);
	ck_assert_uint_eq(k[0].pt, 100);
	ck_assert_uint_eq(k[0].payload[2], 22);
	ck_assert_uint_eq(k[1].payload[2], 23);
	ck_assert_uint_eq(k[0].payload[3], 0x10); /* the rest as it was */

	/* The member's RTCP (a PLI) on the leg: not RTP, not bad either. */
	bad = media_packets_bad(m);
	{
		const uint8_t pli[] = {0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)vport)};

		inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
		ck_assert_int_eq(sendto(rx[0], pli, sizeof(pli), 0,
					(struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(pli));
	}
	step(30);
	ck_assert_uint_eq(media_packets_bad(m), bad);
	/* One destroy: both legs, both ports free again. */
	media_leg_destroy(video);
	ck_assert(!joined(g1) && !joined(g2));
}
END_TEST

/* Instant change of a video stream: a leg that switches to it gets what
 * was sent since its last keyframe at once, pictures a millisecond apart
 * on its timeline, PictureIDs going on from its own, then the stream as it
 * comes; a stream used once stays joined (pinned) until unpinned. */
START_TEST(video_switch_starts_from_the_cache)
{
	char g1[32], g2[32];
	struct channel red, green;
	struct media_leg *video = NULL;
	unsigned vport = 0;
	struct pkt k[16];
	uint8_t pl[64];
	size_t n;

	snprintf(g1, sizeof(g1), "239.255.18.%d", 1 + getpid() % 250);
	snprintf(g2, sizeof(g2), "239.255.19.%d", 1 + getpid() % 250);
	red = av_channel("red", g1, false);
	green = av_channel("green", g2, false);
	m = media_create(home, root, &base_cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &red), 0);
	ck_assert_int_eq(media_source_start(m, &green), 0);
	ck_assert_int_eq(media_leg_create_stream(m, "red", 0, "127.0.0.1",
						 RX_PORT, 100, &video, &vport),
			 0);
	step(30);
	n = vp8(pl, true, true, 10);
	group_send(g1, FEED_PORT, 96, false, 1, 1000, pl, n);
	n = vp8(pl, false, false, 10);
	group_send(g1, FEED_PORT, 96, true, 2, 1000, pl, n);
	n = vp8(pl, true, false, 11);
	group_send(g1, FEED_PORT, 96, true, 3, 4600, pl, n);
	/* green, nobody on it: an inter frame (no cache from it), then a
	 * keyframe and two more */
	n = vp8(pl, true, false, 60);
	group_send(g2, FEED_PORT, 96, true, 70, 50000, pl, n);
	n = vp8(pl, true, true, 61);
	group_send(g2, FEED_PORT, 96, true, 71, 53600, pl, n);
	n = vp8(pl, true, false, 62);
	group_send(g2, FEED_PORT, 96, true, 72, 57200, pl, n);
	n = vp8(pl, true, false, 63);
	group_send(g2, FEED_PORT, 96, true, 73, 60800, pl, n);
	step(50);
	ck_assert_uint_eq(got_all(0, k, 16), 3);
	ck_assert_uint_eq(k[2].payload[2], 11);
	struct pkt before = k[2];

	/* the switch: green's last three pictures at once */
	ck_assert_int_eq(media_leg_switch_stream(video, "green", 0, 100), 0);
	ck_assert_uint_eq(got_all(0, k, 16), 3);
	ck_assert_uint_eq(k[0].payload[2], 12);
	ck_assert_uint_eq(k[1].payload[2], 13);
	ck_assert_uint_eq(k[2].payload[2], 14);
	ck_assert_uint_eq(k[0].payload[3], 0x10); /* the keyframe */
	ck_assert_uint_eq((uint16_t)(k[0].seq - before.seq), 1);
	ck_assert_uint_eq((uint16_t)(k[2].seq - k[0].seq), 2);
	ck_assert_uint_eq(k[1].ts - k[0].ts, 90);
	ck_assert_uint_eq(k[2].ts - k[1].ts, 90);
	ck_assert(k[0].ts != before.ts);
	/* then as it comes, on from there */
	n = vp8(pl, true, false, 64);
	group_send(g2, FEED_PORT, 96, true, 74, 64400, pl, n);
	step(50);
	ck_assert_uint_eq(got_all(0, k + 3, 13), 1);
	ck_assert_uint_eq(k[3].payload[2], 15);
	ck_assert_uint_eq(k[3].ts - k[2].ts, 3600);
	media_leg_destroy(video);
	step(10);
	ck_assert(joined(g1) && joined(g2));
	ck_assert_int_eq(media_source_unpin(m, "red"), 0);
	ck_assert_int_eq(media_source_unpin(m, "green"), 0);
	ck_assert_int_eq(media_source_unpin(m, "green"), -ENOENT);
	ck_assert(!joined(g1) && !joined(g2));
}
END_TEST

/* Every even port of the range once, each in O(1) (a takeover makes
 * thousands of legs at once), each a socket (not two): one another
 * process holds is skipped, and a port a leg gave up is the last to be
 * handed out again, so a late packet of its old member reaches no new
 * one. */
START_TEST(legs_take_each_port_pair_once)
{
	struct media_config cfg = base_cfg;
	struct channel ch = feed_channel("radio", 0);
	struct media_leg *legs[8] = {NULL};
	unsigned port[8] = {0}, again = 0;
	int held;

	cfg.port_max = cfg.port_min + 9; /* five pairs */
	held = udp_bound(cfg.port_min + 2);
	m = media_create(home, root, &cfg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(media_leg_create(m, "radio", "127.0.0.1",
						  RX_PORT, 0, &legs[i],
						  &port[i]),
				 0);
		ck_assert_uint_eq(port[i] % 2, 0);
		ck_assert_uint_ge(port[i], cfg.port_min);
		ck_assert_uint_le(port[i], cfg.port_max - 1);
		ck_assert_uint_ne(port[i], cfg.port_min + 2);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(port[i], port[j]);
	}
	ck_assert_int_eq(media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0,
					  &legs[4], &port[4]),
			 -EADDRINUSE);
	/* One open file a leg: the odd port above it is not bound. */
	close(udp_bound(port[0] + 1));
	/* The held port comes free: it is handed out before a freed one. */
	close(held);
	legs[0] = media_leg_destroy(legs[0]);
	ck_assert_int_eq(media_source_start(m, &ch), 0);
	ck_assert_int_eq(media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0,
					  &legs[4], &again),
			 0);
	ck_assert_uint_eq(again, cfg.port_min + 2);
	ck_assert_int_eq(media_leg_create(m, "radio", "127.0.0.1", RX_PORT, 0,
					  &legs[5], &again),
			 0);
	ck_assert_uint_eq(again, port[0]);
	for (unsigned i = 1; i < 6; i++)
		media_leg_destroy(legs[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("media");
	TCase *tc = tcase_create("media");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hostile_padding_on_a_feed);
	tcase_add_test(tc, retarget_moves_the_leg);
	tcase_add_test(tc, malformed_packets_on_a_feed);
	tcase_add_test(tc, instant_change_from_a_feed);
	tcase_add_test(tc, keys_from_the_member_only);
	tcase_add_test(tc, feed_stops_with_its_last_leg);
	tcase_add_test(tc, feed_no_leg_took);
	tcase_add_test(tc, legs_take_each_port_pair_once);
	tcase_add_test(tc, pinned_until_unpinned);
	tcase_add_test(tc, slate_read_at_start);
	tcase_add_test(tc, slate_without_a_file);
	tcase_add_test(tc, switch_keeps_each_legs_timeline);
	tcase_add_test(tc, generated_channels_send_to_their_groups);
	tcase_add_test(tc, streams_start_at_keyframes_with_the_agreed_types);
	tcase_add_test(tc, video_switch_starts_from_the_cache);
	suite_add_tcase(s, tc);
	return check_run(s);
}
