/* Media: channel sources and relay legs on the su_root loop.
 *
 * A source is one channel's stream.  A tone source ("tone:HZ") makes 20 ms
 * of linear PCM per tick and every leg encodes it in the payload type it
 * negotiated (PCMU or PCMA), so one audio channel serves both.  A transport
 * stream source ("ts:FILE") sends the file's packets, seven to an RTP packet
 * (RFC 2250), when its PCR says they are due.  Generated sources also send
 * to their channel's multicast group, as a headend would, so multicast-mode
 * members of the demo receive them.  An external source is the channel's
 * multicast group: packets received there are forwarded as they are to legs
 * of the same payload type.
 *
 * A leg is one relay-mode member: an ortp session bound to an even port of
 * the configured range (RTCP off), sending to the member's address.  Its
 * SSRC, sequence numbers and timestamps belong to the leg, not to the
 * source: a switch only changes which source feeds it, the timeline goes on
 * by one packet interval, and the first packet from the new source carries
 * the marker bit (RFC 3550 §5.1, RFC 3551 §4.1).  A leg writes its packets
 * itself, a 12-byte header before the source's payload, with one sendmsg
 * on its session's socket: ortp's send path (a buffer allocated and the
 * payload copied per packet, a clock read, its statistics) cost more than
 * the rest of the relay's own work at 1,000 legs (docs/performance.md). */
#define LOG_MODULE      "media"
#define SU_TIMER_ARG_T  void
#define SU_WAKEUP_ARG_T void

#include "media/media.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ortp/ortp.h>
#include <sofia-sip/su_string.h>

#include "server/catalog.h"
#include "media/tsfile.h"
#include "server/log.h"

#define SAMPLES    160 /* 20 ms at 8 kHz */
#define TONE_MS    20
#define VIDEO_STEP 3600       /* 40 ms at 90 kHz, for an unknown first gap */
#define TS_TICK_MS 5          /* how often a ts: source looks at the clock */
#define ICC_MAX    (4u << 20) /* a stream without keyframes: no cache */
#define ICC_NONE   ((size_t)-1)
#define TS_LATE    (TS_CLOCK / 2) /* further behind than this: skip ahead */

enum source_kind { SOURCE_TONE, SOURCE_TS, SOURCE_GROUP };

struct source {
	struct source *next;
	struct media *m;
	char *channel;
	enum source_kind kind;
	unsigned pt;        /* of the channel */
	double freq, phase; /* tone */
	bool beep;          /* the slate: 200 ms of tone a second */
	unsigned long sample;
	struct tsfile *ts; /* ts: file */
	su_time64_t t0;    /* when the ts: file started playing (ns) */
	uint64_t skew;     /* 27 MHz skipped after the loop fell behind */
	uint32_t ts_rtp;   /* 90 kHz time of the last chunk */
	/* Instant channel change: the packets sent since the PAT before the
	 * last keyframe (random_access_indicator on the PCR PID). */
	uint8_t *icc;
	size_t icc_len, icc_pat;
	bool icc_ok;      /* it starts at a PAT, then a keyframe */
	unsigned key_pid; /* the PCR PID, whose RAI marks keyframes */
	bool icc_on;
	size_t icc_cap;
	su_timer_t *timer;
	RtpSession *out; /* a generated source's sender to its group */
	uint32_t out_ts;
	bool out_failed;
	int fd, reg; /* group receiver */
	uint32_t last_ts;
	struct media_leg *legs;
};

struct media_leg {
	struct media_leg *next; /* in its source's list */
	struct media *m;
	struct source *src;
	RtpSession *rtp;
	int fd; /* its RTP socket (ortp's lookup of it costs, once a packet) */
	unsigned port, pt;
	struct sockaddr_storage peer;
	uint32_t ssrc, ts; /* the leg's own timeline */
	uint16_t seq;
	bool started, marker;
	int reg;
	media_dtmf_f *dtmf_cb;
	void *dtmf_arg;
	unsigned event_pt; /* RFC 4733 telephone-event PT agreed */
	uint32_t last_event_ts;
	bool event_seen;
	uint64_t dropped;
};

struct media {
	su_home_t home[1];
	su_root_t *root;
	char *bind_addr;
	char *mcast_if;
	char *slate_ts;
	bool instant_change;
	unsigned port_min, port_max;
	unsigned ttl;
	unsigned char *used; /* one byte per even port of the range */
	struct source *sources;
	RtpProfile *profile; /* PCMU, PCMA and MP2T, for every session */
	uint64_t packets_out;
};

/* -- G.711 (ITU-T G.711 segment encoding) --------------------------------- */

static uint8_t ulaw(int16_t pcm)
{
	int s = pcm, sign = 0, exp = 7, mant;

	if (s < 0) {
		s = -s;
		sign = 0x80;
	}
	if (s > 32635)
		s = 32635;
	s += 0x84;
	for (int mask = 0x4000; !(s & mask) && exp > 0; mask >>= 1)
		exp--;
	mant = (s >> (exp + 3)) & 0x0f;
	return (uint8_t) ~(sign | (exp << 4) | mant);
}

static uint8_t alaw(int16_t pcm)
{
	int s = pcm >> 3, sign = 0x80, exp, mant;

	if (s < 0) {
		s = -s - 1;
		sign = 0;
	}
	if (s > 0xfff)
		s = 0xfff;
	if (s < 32) {
		exp = 0;
		mant = s >> 1;
	}
	else {
		exp = 1;
		while (s >= 64 << (exp - 1) && exp < 7)
			exp++;
		mant = (s >> exp) & 0x0f;
	}
	return (uint8_t)((sign | (exp << 4) | mant) ^ 0x55);
}

/* An RTP session of ours: RTCP off, nothing blocks or waits for ortp's
 * scheduler (the su_root loop paces the packets), a random SSRC. */
static RtpSession *session_new(struct media *m, int mode, unsigned pt)
{
	RtpSession *s = rtp_session_new(mode);

	if (!s)
		return NULL;
	rtp_session_set_scheduling_mode(s, 0);
	rtp_session_set_blocking_mode(s, 0);
	rtp_session_enable_rtcp(s, FALSE);
	rtp_session_set_profile(s, m->profile);
	rtp_session_set_payload_type(s, (int)pt);
	rtp_session_set_ssrc(s,
			     (uint32_t)random() ^ ((uint32_t)random() << 16));
	return s;
}

/* -- legs ------------------------------------------------------------------ */

static void leg_send(struct media_leg *leg, const uint8_t *payload, size_t len,
		     uint32_t step)
{
	uint8_t h[RTP_FIXED_HEADER_SIZE];
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)payload, len}};
	struct msghdr msg = {.msg_name = &leg->peer,
			     .msg_namelen = sizeof(struct sockaddr_in),
			     .msg_iov = iov,
			     .msg_iovlen = 2};

	/* The leg's timeline: continuous across switches (one interval per
	 * packet), whatever the source's own timestamps are. */
	if (leg->started)
		leg->ts += step;
	leg->started = true;
	h[0] = 0x80; /* version 2, no padding, extension or CSRC */
	h[1] = (uint8_t)((leg->marker ? 0x80 : 0) | leg->pt);
	h[2] = (uint8_t)(leg->seq >> 8);
	h[3] = (uint8_t)leg->seq;
	h[4] = (uint8_t)(leg->ts >> 24);
	h[5] = (uint8_t)(leg->ts >> 16);
	h[6] = (uint8_t)(leg->ts >> 8);
	h[7] = (uint8_t)leg->ts;
	h[8] = (uint8_t)(leg->ssrc >> 24);
	h[9] = (uint8_t)(leg->ssrc >> 16);
	h[10] = (uint8_t)(leg->ssrc >> 8);
	h[11] = (uint8_t)leg->ssrc;
	leg->marker = false;
	leg->seq++;
	if (sendmsg(leg->fd, &msg, MSG_DONTWAIT) >= 0)
		leg->m->packets_out++;
}

static void attach(struct media_leg *leg, struct source *src)
{
	struct media_leg **pp;

	if (leg->src) {
		for (pp = &leg->src->legs; *pp && *pp != leg; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = leg->next;
	}
	leg->next = NULL;
	leg->src = src;
	if (src) {
		leg->next = src->legs;
		src->legs = leg;
	}
	leg->marker = true;
}

/* -- sources --------------------------------------------------------------- */

/* A generated source sends to its channel's group too, from a session of
 * its own, on the configured interface with the configured TTL (0 keeps it
 * on this host). */
static int group_out_open(struct media *m, struct source *src,
			  const struct channel *ch)
{
	struct in_addr ifaddr;
	unsigned char ttl = (unsigned char)m->ttl;
	int fd;

	if (!ch->group)
		return 0;
	src->out = session_new(m, RTP_SESSION_SENDONLY, ch->pt);
	if (!src->out)
		return -ENOMEM;
	if (rtp_session_set_local_addr(src->out, m->bind_addr, -1, -1) < 0 ||
	    rtp_session_set_remote_addr(src->out, ch->group, (int)ch->port) < 0)
		return -EADDRNOTAVAIL;
	fd = rtp_session_get_rtp_socket(src->out);
	inet_pton(AF_INET, m->mcast_if, &ifaddr);
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
		       sizeof(ifaddr)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0)
		return -errno;
	return 0;
}

static void group_send(struct source *src, const uint8_t *payload, size_t len,
		       uint32_t ts)
{
	mblk_t *mp;

	if (!src->out)
		return;
	mp = rtp_session_create_packet(src->out, RTP_FIXED_HEADER_SIZE, payload,
				       len);
	if (mp && rtp_session_sendm_with_ts(src->out, mp, ts) < 0 &&
	    !src->out_failed) {
		/* Once: a host without a route for the group says so on
		 * every packet. */
		log_warn("source %s: cannot send to its group (%s)",
			 src->channel, strerror(errno));
		src->out_failed = true;
	}
}

static void tone_tick(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct source *src = arg;
	int16_t pcm[SAMPLES];
	uint8_t mu[SAMPLES], a[SAMPLES];
	double step = 2.0 * M_PI * src->freq / 8000.0;

	if (!src->legs && !src->out)
		return;
	/* A steady tone: channels differ by pitch, so a listener hears the
	 * switch. */

	for (unsigned i = 0; i < SAMPLES; i++, src->sample++) {
		bool on = !src->beep || src->sample % 8000 < 1600;

		pcm[i] = on ? (int16_t)(9000.0 * sin(src->phase)) : 0;
		src->phase += step;
	}
	src->phase = fmod(src->phase, 2.0 * M_PI);
	for (unsigned i = 0; i < SAMPLES; i++) {
		mu[i] = ulaw(pcm[i]);
		a[i] = alaw(pcm[i]);
	}
	group_send(src, src->pt == 8 ? a : mu, SAMPLES, src->out_ts);
	src->out_ts += SAMPLES;
	for (struct media_leg *leg = src->legs; leg; leg = leg->next)
		leg_send(leg, leg->pt == 8 ? a : mu, SAMPLES, SAMPLES);
}

/* Keep one sent packet for instant channel change. */
static void icc_keep(struct source *src, const uint8_t *p)
{
	unsigned pid = (unsigned)(p[1] & 0x1f) << 8 | p[2];

	if (pid == 0) {
		src->icc_pat = src->icc_len; /* a place to start from */
	}
	else if (pid == src->key_pid && (p[1] & 0x40) && (p[3] & 0x20) &&
		 p[4] > 0 && (p[5] & 0x40) && src->icc_pat != ICC_NONE) {
		/* A keyframe: what came before its PAT is not needed. */
		memmove(src->icc, src->icc + src->icc_pat,
			src->icc_len - src->icc_pat);
		src->icc_len -= src->icc_pat;
		src->icc_pat = 0;
		src->icc_ok = true;
	}
	if (src->icc_len + TS_PACKET > ICC_MAX) {
		src->icc_len = 0;
		src->icc_pat = ICC_NONE;
		src->icc_ok = false;
	}
	if (src->icc_len + TS_PACKET > src->icc_cap) {
		/* A GOP's worth, grown as the stream needs. */
		size_t cap = src->icc_cap ? 2 * src->icc_cap : 64 * TS_PACKET;
		uint8_t *n =
		    su_realloc(src->m->home, src->icc,
			       (isize_t)(cap < ICC_MAX ? cap : ICC_MAX));

		if (!n)
			return;
		src->icc = n;
		src->icc_cap = cap < ICC_MAX ? cap : ICC_MAX;
	}
	memcpy(src->icc + src->icc_len, p, TS_PACKET);
	src->icc_len += TS_PACKET;
}

/* A leg that has just joined or switched to @a src gets the cache at once,
 * seven packets to an RTP packet, all stamped with this moment. */
static void icc_burst(struct media_leg *leg)
{
	struct source *src = leg->src;

	if (!src || !src->icc_ok || leg->pt != 33)
		return;
	for (size_t off = 0; off < src->icc_len;
	     off += TS_PER_RTP * TS_PACKET) {
		size_t len = src->icc_len - off;

		if (len > TS_PER_RTP * TS_PACKET)
			len = TS_PER_RTP * TS_PACKET;
		leg_send(leg, src->icc + off, len,
			 leg->marker ? VIDEO_STEP : 0);
	}
}

/* Send every chunk of the file that is due.  A loop that was held up (a
 * long database answer, a debugger) skips what it missed rather than
 * sending it in a burst a decoder's buffer would overflow with. */
static void ts_tick(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct source *src = arg;
	uint8_t buf[TS_PER_RTP * TS_PACKET];
	uint64_t now = (uint64_t)(su_monotime(NULL) - src->t0) * 27 / 1000;
	uint64_t due = tsfile_next_due(src->ts), at;

	if (now > src->skew + due + TS_LATE)
		src->skew = now - due;
	for (; due + src->skew <= now; due = tsfile_next_due(src->ts)) {
		size_t len = tsfile_take(src->ts, buf, &at);
		uint32_t ts90 = (uint32_t)(at / 300), step = ts90 - src->ts_rtp;

		src->ts_rtp = ts90;
		if (src->icc_on)
			for (size_t off = 0; off < len; off += TS_PACKET)
				icc_keep(src, buf + off);
		group_send(src, buf, len, ts90);
		for (struct media_leg *leg = src->legs; leg; leg = leg->next)
			if (leg->pt == 33)
				leg_send(leg, buf, len,
					 leg->marker || !step ? VIDEO_STEP
							      : step);
	}
}

static int ts_start(struct media *m, struct source *src,
		    const struct channel *ch)
{
	char err[256];
	int rc =
	    tsfile_open(m->home, ch->generate + 3, &src->ts, err, sizeof(err));

	if (rc < 0) {
		log_err("channel %s: %s", ch->id, err);
		return rc;
	}
	log_info("channel %s: %zu packets, %.1f s a pass, %" PRIu64
		 " bit/s by its PCR",
		 ch->id, tsfile_packets(src->ts),
		 (double)tsfile_duration(src->ts) / TS_CLOCK,
		 tsfile_bitrate(src->ts));
	if (m->instant_change) {
		src->icc_on = true;
		src->icc_pat = ICC_NONE;
		src->key_pid = tsfile_pcr_pid(src->ts);
	}
	src->t0 = su_monotime(NULL);
	src->timer = su_timer_create(su_root_task(m->root), TS_TICK_MS);
	if (!src->timer || su_timer_set_for_ever(src->timer, ts_tick, src) < 0)
		return -ENOMEM;
	return 0;
}

static int on_group(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct source *src = arg;
	uint8_t buf[2048];
	ssize_t n = recv(src->fd, buf, sizeof(buf), 0);
	size_t off;
	unsigned pt;
	uint32_t ts, step;

	if (n < 12 || (buf[0] >> 6) != 2)
		return 0; /* not RTP version 2 */
	off = 12 + 4u * (buf[0] & 0x0f);
	if ((buf[0] & 0x10) && (size_t)n >= off + 4)
		off += 4 + 4u * ((unsigned)buf[off + 2] << 8 | buf[off + 3]);
	if ((size_t)n <= off)
		return 0;
	if (buf[0] & 0x20) /* padding: the last byte says how much */
		n -= buf[n - 1];
	if ((size_t)n <= off)
		return 0;
	pt = buf[1] & 0x7f;
	ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
	     (uint32_t)buf[6] << 8 | buf[7];
	step = src->last_ts && ts != src->last_ts
		   ? ts - src->last_ts
		   : (pt == 33 ? VIDEO_STEP : SAMPLES);
	src->last_ts = ts;
	if (src->icc_on && pt == 33 && (n - (ssize_t)off) % TS_PACKET == 0)
		for (size_t o = off; o < (size_t)n; o += TS_PACKET) {
			const uint8_t *p = buf + o;

			/* The first PID with a PCR is the video's. */
			if (src->key_pid > 0x1fff && p[0] == 0x47 &&
			    (p[3] & 0x20) && p[4] >= 7 && (p[5] & 0x10))
				src->key_pid =
				    (unsigned)(p[1] & 0x1f) << 8 | p[2];
			if (p[0] == 0x47)
				icc_keep(src, p);
		}
	for (struct media_leg *leg = src->legs; leg; leg = leg->next)
		if (leg->pt == pt)
			leg_send(leg, buf + off, (size_t)n - off,
				 leg->marker ? (pt == 33 ? VIDEO_STEP : SAMPLES)
					     : step);
	return 0;
}

static int join_group(struct media *m, struct source *src,
		      const struct channel *ch)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	su_wait_t w;
	int one = 1;

	src->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (src->fd < 0)
		return -errno;
	setsockopt(src->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((uint16_t)ch->port);
	inet_pton(AF_INET, ch->group, &sin.sin_addr);
	if (bind(src->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	if (ch->source) {
		struct ip_mreq_source mr = {0};

		inet_pton(AF_INET, ch->group, &mr.imr_multiaddr);
		inet_pton(AF_INET, ch->source, &mr.imr_sourceaddr);
		inet_pton(AF_INET, m->mcast_if, &mr.imr_interface);
		if (setsockopt(src->fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP,
			       &mr, sizeof(mr)) < 0)
			return -errno;
	}
	else {
		struct ip_mreq mr = {0};

		inet_pton(AF_INET, ch->group, &mr.imr_multiaddr);
		inet_pton(AF_INET, m->mcast_if, &mr.imr_interface);
		if (setsockopt(src->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
			       sizeof(mr)) < 0)
			return -errno;
	}
	if (su_wait_create(&w, src->fd, SU_WAIT_IN) < 0)
		return -EIO;
	src->reg = su_root_register(m->root, &w, on_group, src, 0);
	return src->reg > 0 ? 0 : -EIO;
}

static struct source *source_find(struct media *m, const char *channel)
{
	for (struct source *s = m->sources; s; s = s->next)
		if (su_strmatch(s->channel, channel))
			return s;
	return NULL;
}

static void source_free(struct source *src)
{
	while (src->legs)
		attach(src->legs, NULL);
	if (src->timer)
		su_timer_destroy(src->timer);
	if (src->out)
		rtp_session_destroy(src->out);
	tsfile_close(src->ts);
	su_free(src->m->home, src->icc);
	if (src->reg > 0)
		su_root_deregister(src->m->root, src->reg);
	if (src->fd >= 0)
		close(src->fd);
	su_free(src->m->home, src->channel);
	su_free(src->m->home, src);
}

int media_source_start(struct media *m, const struct channel *ch)
{
	struct source *src;
	int err = 0;

	if (source_find(m, ch->id))
		return 0;
	src = su_zalloc(m->home, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->m = m;
	src->fd = -1;
	src->pt = ch->pt;
	src->channel = su_strdup(m->home, ch->id);
	if (ch->generate && strncmp(ch->generate, "tone:", 5) == 0) {
		src->kind = SOURCE_TONE;
		src->freq = atof(ch->generate + 5);
		if (src->freq <= 0 || src->freq >= 4000)
			err = -EINVAL;
		src->timer =
		    err ? NULL
			: su_timer_create(su_root_task(m->root), TONE_MS);
		if (!err &&
		    (!src->timer ||
		     su_timer_set_for_ever(src->timer, tone_tick, src) < 0))
			err = -ENOMEM;
	}
	else if (ch->generate && strncmp(ch->generate, "ts:", 3) == 0) {
		src->kind = SOURCE_TS;
		err = ch->pt == 33 ? ts_start(m, src, ch) : -EINVAL;
	}
	else if (ch->generate) {
		err = -EINVAL;
	}
	else {
		src->kind = SOURCE_GROUP;
		err = ch->group ? join_group(m, src, ch) : -EINVAL;
		if (!err && m->instant_change && ch->pt == 33) {
			src->icc_on = true;
			src->icc_pat = ICC_NONE;
			src->key_pid = 0x2000; /* learnt from the feed */
		}
	}
	if (!err && src->kind != SOURCE_GROUP)
		err = group_out_open(m, src, ch);
	if (err < 0 || !src->channel) {
		source_free(src);
		return err < 0 ? err : -ENOMEM;
	}
	src->next = m->sources;
	m->sources = src;
	log_debug("source %s started (%s)", ch->id,
		  src->kind == SOURCE_TONE ? "tone"
		  : src->kind == SOURCE_TS ? "ts"
					   : "group");
	return 0;
}

/* RFC 4733 §2.3: an event ends with the E bit, sent three times; report it
 * once. */
static void leg_event(struct media_leg *leg, const uint8_t *p, size_t len,
		      uint32_t ts)
{
	static const char digits[] = "0123456789*#ABCD";

	if (len < 4 || !(p[1] & 0x80) || p[0] > 15)
		return;
	if (leg->event_seen && leg->last_event_ts == ts)
		return;
	leg->event_seen = true;
	leg->last_event_ts = ts;
	if (leg->dtmf_cb)
		leg->dtmf_cb(leg->dtmf_arg, leg, digits[p[0]]);
}

static bool same_peer(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

	return a->ss_family == AF_INET && b->ss_family == AF_INET &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr &&
	       x->sin_port == y->sin_port;
}

static int on_leg(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct media_leg *leg = arg;
	uint8_t buf[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(leg->fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl);
	size_t off;

	if (n < 12)
		return 0;
	/* Only the member may send to its leg (RFC 3550 §8.2 is about SSRC
	 * collisions; this is about strangers injecting commands). */
	if (!same_peer(&from, &leg->peer)) {
		leg->dropped++;
		return 0;
	}
	off = 12 + 4u * (buf[0] & 0x0f);
	if (leg->event_pt && (buf[1] & 0x7f) == leg->event_pt &&
	    (size_t)n > off) {
		uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
			      (uint32_t)buf[6] << 8 | buf[7];

		leg_event(leg, buf + off, (size_t)n - off, ts);
	}
	return 0;
}

static int set_peer(struct media_leg *leg, const char *addr, unsigned port)
{
	struct sockaddr_in *sin = (void *)&leg->peer;

	memset(&leg->peer, 0, sizeof(leg->peer));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return -EINVAL;
	if (rtp_session_set_remote_addr(leg->rtp, addr, (int)port) < 0)
		return -EINVAL;
	leg->fd = rtp_session_get_rtp_socket(leg->rtp);
	return 0;
}

int media_leg_create(struct media *m, const char *channel_id, const char *addr,
		     unsigned port, unsigned pt, struct media_leg **ret_leg,
		     unsigned *ret_port)
{
	struct source *src = source_find(m, channel_id);
	struct media_leg *leg;
	unsigned slot, n = (m->port_max - m->port_min + 1) / 2;
	su_wait_t w;

	if (!src)
		return -ENOENT;
	leg = su_zalloc(m->home, sizeof(*leg));
	if (!leg)
		return -ENOMEM;
	leg->m = m;
	leg->pt = pt;
	leg->rtp = session_new(m, RTP_SESSION_SENDRECV, pt);
	if (!leg->rtp)
		goto nomem;
	leg->ssrc = rtp_session_get_send_ssrc(leg->rtp);
	leg->seq = (uint16_t)random(); /* RFC 3550 §5.1: a random start */
	/* An even port of the range that binds (RFC 3550 §11). */
	for (slot = 0; slot < n; slot++) {
		unsigned p = m->port_min + 2 * slot;

		if (m->used[slot])
			continue;
		if (rtp_session_set_local_addr(leg->rtp, m->bind_addr, (int)p,
					       (int)p + 1) == 0) {
			m->used[slot] = 1;
			leg->port = p;
			break;
		}
	}
	if (!leg->port) {
		rtp_session_destroy(leg->rtp);
		su_free(m->home, leg);
		return -EADDRINUSE;
	}
	if (set_peer(leg, addr, port) < 0) {
		media_leg_destroy(leg);
		return -EINVAL;
	}
	if (su_wait_create(&w, leg->fd, SU_WAIT_IN) == 0)
		leg->reg = su_root_register(m->root, &w, on_leg, leg, 0);
	attach(leg, src);
	icc_burst(leg);
	*ret_leg = leg;
	*ret_port = leg->port;
	return 0;
nomem:
	su_free(m->home, leg);
	return -ENOMEM;
}

int media_leg_switch(struct media_leg *leg, const char *channel_id)
{
	struct source *src = source_find(leg->m, channel_id);

	if (!src)
		return -ENOENT;
	if (src != leg->src) {
		attach(leg, src);
		icc_burst(leg);
	}
	return 0;
}

#define SLATE_AUDIO "-slate-audio"
#define SLATE_VIDEO "-slate-video"

int media_leg_slate(struct media_leg *leg)
{
	struct media *m = leg->m;
	bool video = leg->pt == 33;
	const char *id = video ? SLATE_VIDEO : SLATE_AUDIO;
	char gen[600];
	struct channel ch = {
	    .id = id,
	    .name = "not in your package",
	    .media = video ? CHANNEL_VIDEO : CHANNEL_AUDIO,
	    .pt = video ? 33 : 0,
	};
	struct source *src;
	int err;

	if (video && !m->slate_ts)
		return -ENOENT;
	if (video)
		snprintf(gen, sizeof(gen), "ts:%s", m->slate_ts);
	else
		snprintf(gen, sizeof(gen), "tone:1000");
	ch.generate = gen;
	/* Sent to the legs that need it only: no group. */
	if (!source_find(m, id) && (err = media_source_start(m, &ch)) < 0)
		return err;
	src = source_find(m, id);
	if (!src)
		return -ENOENT;
	src->beep = !video;
	if (src != leg->src)
		attach(leg, src);
	return 0;
}

int media_leg_retarget(struct media_leg *leg, const char *addr, unsigned port)
{
	return set_peer(leg, addr, port);
}

struct media_leg *media_leg_destroy(struct media_leg *leg)
{
	struct media *m;

	if (!leg)
		return NULL;
	m = leg->m;
	attach(leg, NULL);
	if (leg->reg > 0)
		su_root_deregister(m->root, leg->reg);
	if (leg->port)
		m->used[(leg->port - m->port_min) / 2] = 0;
	if (leg->rtp)
		rtp_session_destroy(leg->rtp);
	su_free(m->home, leg);
	return NULL;
}

void media_leg_on_dtmf(struct media_leg *leg, unsigned event_pt,
		       media_dtmf_f *cb, void *arg)
{
	leg->event_pt = event_pt;
	leg->dtmf_cb = cb;
	leg->dtmf_arg = arg;
}

uint64_t media_packets_out(const struct media *m)
{
	return m->packets_out;
}

/* -- the engine ------------------------------------------------------------ */

static void ortp_logger(const char *domain, BctbxLogLevel lev, const char *fmt,
			va_list args)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, args);
	log_debug("ortp: %s", line);
}

static void media_destructor(void *arg)
{
	struct media *m = arg;

	while (m->sources) {
		struct source *s = m->sources;

		m->sources = s->next;
		source_free(s);
	}
	if (m->profile)
		rtp_profile_destroy(m->profile);
}

/* ortp knows PCMU and PCMA; MP2T (RFC 3551 §6: PT 33, 90 kHz) is added
 * here, so every payload type we send is one the session's profile has. */
static RtpProfile *profile_new(void)
{
	RtpProfile *prof = rtp_profile_new("tvspace");
	PayloadType *mp2t = payload_type_clone(&payload_type_mpv);

	if (!prof || !mp2t) {
		if (mp2t)
			payload_type_destroy(mp2t);
		if (prof)
			rtp_profile_destroy(prof);
		return NULL;
	}
	bctbx_free(mp2t->mime_type);
	mp2t->mime_type = bctbx_strdup("MP2T");
	rtp_profile_set_payload(prof, 0, &payload_type_pcmu8000);
	rtp_profile_set_payload(prof, 8, &payload_type_pcma8000);
	rtp_profile_set_payload(prof, 33, mp2t);
	return prof;
}

struct media *media_create(su_home_t *parent, su_root_t *root,
			   const struct media_config *cfg)
{
	static bool ortp_ready;
	struct media *m;

	if (cfg->port_min >= cfg->port_max || cfg->port_min % 2)
		return NULL;
	if (!ortp_ready) {
		ortp_init();
		bctbx_set_log_handler(ortp_logger);
		ortp_ready = true;
	}
	m = su_home_clone(parent, sizeof(*m));
	if (!m)
		return NULL;
	m->root = root;
	m->bind_addr = su_strdup(m->home, cfg->bind_addr);
	m->mcast_if = su_strdup(m->home, cfg->multicast_if ? cfg->multicast_if
							   : cfg->bind_addr);
	m->instant_change = cfg->instant_change;
	m->slate_ts = cfg->slate_ts && *cfg->slate_ts
			  ? su_strdup(m->home, cfg->slate_ts)
			  : NULL;
	m->port_min = cfg->port_min;
	m->port_max = cfg->port_max;
	m->ttl = cfg->multicast_ttl;
	m->used = su_zalloc(m->home, (cfg->port_max - cfg->port_min) / 2 + 1);
	m->profile = profile_new();
	if (!m->bind_addr || !m->mcast_if || !m->used || !m->profile ||
	    su_home_destructor(m->home, media_destructor) < 0) {
		su_home_unref(m->home);
		return NULL;
	}
	return m;
}

struct media *media_destroy(struct media *m)
{
	if (m)
		su_home_unref(m->home);
	return NULL;
}
