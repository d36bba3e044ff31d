/* Media: channel sources and relay legs on the su_root loop.
 *
 * A source is one channel's stream.  A tone source ("tone:HZ") makes 20 ms
 * of linear PCM per tick and every leg encodes it in the payload type it
 * negotiated (PCMU or PCMA), so one audio channel serves both.  A transport
 * stream source ("ts:FILE") sends the file's packets, seven to an RTP packet
 * (RFC 2250), when its PCR says they are due.  Generated sources also send
 * to their channel's multicast group, as a headend would, so multicast-mode
 * members of the demo receive them.  An external source is the channel's
 * multicast group: packets received there, once rtpin.c has checked them,
 * are forwarded as they are to legs of the same payload type.
 *
 * A source runs while it is used: by its legs, or by a pin (a generated
 * channel, an instant-change feed).  The last leg to leave an unpinned
 * source stops it, so a group nobody watches is left.  Generated sources
 * are paced by timerfds on the root, not by sofia-sip's timers (see struct
 * pacer).
 *
 * A leg is one relay-mode member: a socket of its own bound to an even port
 * of the configured range (an ortp session gives it its SSRC; RTCP off, the
 * odd port left unbound), connected to the member's address.  Its
 * SSRC, sequence numbers and timestamps belong to the leg, not to the
 * source: a switch only changes which source feeds it, the timeline goes on
 * by one packet interval, and the first packet from the new source carries
 * the marker bit (RFC 3550 §5.1, RFC 3551 §4.1).  A leg writes its packets
 * itself, a 12-byte header before the source's payload, with one sendmsg
 * on its socket: ortp's send path (a buffer allocated and the
 * payload copied per packet, a clock read, its statistics) cost more than
 * the rest of the relay's own work at 1,000 legs (docs/performance.md).
 * Each leg has its own socket (the member sees the stream come from the
 * port its answer named), so sendmmsg, which batches on one socket, does not
 * apply; a connected socket saves the route lookup instead, about half of
 * what one sendmmsg for every leg would (bench/send_paths.c).
 *
 * A channel of separate streams (CHANNEL_STREAMS: a picture and its sound)
 * has a source a stream, each its group, and a member a leg a stream,
 * chained behind its first (media_leg_next()).  Such a leg sends what its
 * source receives with the payload type the member's answer agreed for
 * that encoding, its own SSRC, sequence numbers and timestamps; a switch
 * moves its timeline on by the time since its last packet.  A video leg
 * starts at a keyframe (rtpin.c reads VP8's and H.264's) and sends
 * nothing before it; VP8 PictureIDs are rewritten to go on from the
 * leg's last, so a decoder that saw another channel's takes the new one's
 * keyframe as the next picture.  The marker bit of a video packet keeps
 * its meaning (RFC 7741 §4.1, RFC 6184 §5.1: the last packet of a
 * picture), so only an audio leg's first packet after a switch is
 * marked. */
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
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <ortp/ortp.h>
#include <sofia-sip/su_string.h>

#include "server/catalog.h"
#include "media/rtpin.h"
#include "media/tsfile.h"
#include "server/log.h"

#define SAMPLES    160 /* 20 ms at 8 kHz */
#define TONE_MS    20
#define VIDEO_STEP 3600       /* 40 ms at 90 kHz, for an unknown first gap */
#define ICC_MAX    (4u << 20) /* a stream without keyframes: no cache */
#define ICC_NONE   ((size_t)-1)
#define TS_LATE    (TS_CLOCK / 2) /* further behind than this: skip ahead */

enum source_kind { SOURCE_TONE, SOURCE_TS, SOURCE_GROUP };

/* A timer of the kernel's (timerfd) registered on the root, for what is
 * paced to the packet: sofia-sip's timers wake its loop a whole
 * millisecond early and it then polls until they are due (epoll_wait with
 * no timeout, some twenty times a wakeup: 90 % of an idle tvspaced's
 * system calls with the demo's generated channels, docs/performance.md). */
struct pacer {
	int fd, reg;
};

/* What a leg sends with.  While the leg is on a source this lives in the
 * source's array, so a packet's fan-out walks memory in order: following a
 * list of legs cost a cache miss a leg (each send's kernel work evicts
 * them), 7 % of the relay's time at 1,000 legs (docs/performance.md). */
struct leg_out {
	struct media_leg *leg; /* NULL: a generated source's group */
	const struct sockaddr_storage *peer;
	int fd;
	uint32_t ssrc, ts; /* the leg's own timeline */
	uint16_t seq;
	uint8_t pt;
	bool started, marker;
	bool connected; /* else the peer goes with every packet */
	/* A leg of a channel of separate streams (struct source's
	 * elementary): */
	bool key_wait;    /* video: nothing until the next keyframe */
	bool rebase;      /* the next packet's step is the time since the
			   * last one (a switch) */
	uint64_t last_ns; /* when it last sent */
	bool pid_sent;    /* VP8: a PictureID went out */
	uint16_t pid_last, pid_off;
};

/* What a stream of a channel of separate streams carries, for its legs:
 * where a member may start. */
enum codec { CODEC_AUDIO, CODEC_VP8, CODEC_H264 };

struct source {
	struct source *next;
	struct media *m;
	char *channel;
	unsigned stream; /* which stream of a CHANNEL_STREAMS channel */
	enum source_kind kind;
	unsigned pt; /* of the channel (of the stream) */
	/* A stream of a CHANNEL_STREAMS channel: forwarded to every leg with
	 * the leg's payload type. */
	bool elementary;
	enum codec codec;
	unsigned clock;  /* its RTP clock rate */
	uint32_t au_ts;  /* H.264: the access unit being received */
	bool au_started; /* one was */
	bool au_vcl;     /* a slice of it came */
	/* Instant channel change of a video stream: the datagrams received
	 * since the last keyframe, each after its length (2 bytes), for a
	 * leg that switches to it to start at once. */
	uint8_t *vc;
	size_t vc_len, vc_cap;
	bool vc_ok; /* it starts at a keyframe */
	/* Its use: the legs it feeds, and a pin for what runs whoever
	 * watches (a generated channel sends to its group as a headend
	 * does; an instant-change feed keeps its cache warm).  With neither
	 * it stops: a group is left, its socket closed. */
	bool pinned;
	struct leg_out *fan; /* its legs */
	unsigned nlegs, fan_cap;
	double freq, phase; /* tone */
	bool beep;          /* the slate: 200 ms of tone a second */
	unsigned long sample;
	struct tsfile *ts; /* ts: file */
	bool own_ts;       /* not the engine's slate, which outlives it */
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
	struct pacer pace; /* a ts: source's next chunk */
	/* A generated source's sender to its group, written as a leg's. */
	RtpSession *out;
	struct leg_out grp;
	struct sockaddr_storage grp_addr;
	bool out_failed;
	bool ticking; /* a tone on the engine's tone timer */
	int fd, reg;  /* group receiver */
	uint32_t last_ts;
};

struct media_leg {
	struct media *m;
	struct media_leg *next; /* the member's leg of its next stream */
	bool elementary;        /* of a stream of separate streams */
	struct source *src;
	unsigned slot;       /* its place in src->fan */
	struct leg_out idle; /* its sending state while on no source */
	RtpSession *rtp;
	int fd; /* its RTP socket (ortp's lookup of it costs, once a packet) */
	unsigned port, pt;
	struct sockaddr_storage peer;
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
	struct tsfile *slate; /* read at start: the loop never waits for it */
	bool instant_change;
	unsigned port_min, port_max;
	unsigned ttl;
	/* The even ports of the range not in use, as slots (port_min + 2 *
	 * slot), in the order they are handed out: a ring, so a leg takes
	 * one in O(1) (a takeover makes thousands at once), and a port
	 * given up goes to the back (a late packet of its old member reaches
	 * no new one soon after). */
	unsigned *free_slots;
	unsigned nslots, free_head, free_count;
	struct source *sources;
	RtpProfile *profile; /* PCMU, PCMA and MP2T, for every session */
	su_timer_t *reap;    /* stops sources started that no leg took */
	struct pacer tones;  /* every 20 ms while a tone source runs */
	unsigned ntones;
	uint64_t packets_out, packets_in, packets_bad;
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

static struct leg_out *out_of(struct media_leg *leg)
{
	return leg->src ? &leg->src->fan[leg->slot] : &leg->idle;
}

/* One packet to one leg: its 12-byte header, written here, then @a head
 * (a few bytes the leg rewrote, or none) and the rest of the source's
 * payload, with one system call on its connected socket.  0, or -errno. */
static int rtp_sendv(struct leg_out *o, bool marker, const uint8_t *head,
		     size_t head_len, const uint8_t *payload, size_t len,
		     uint32_t step)
{
	uint8_t h[RTP_FIXED_HEADER_SIZE];
	struct iovec iov[3] = {
	    {h, sizeof(h)}, {(void *)head, head_len}, {(void *)payload, len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};

	if (!head_len) {
		iov[1] = iov[2];
		msg.msg_iovlen = 2;
	}
	if (!o->connected) {
		msg.msg_name = (void *)o->peer;
		msg.msg_namelen = sizeof(struct sockaddr_in);
	}
	/* The leg's timeline: continuous across switches (one interval per
	 * packet), whatever the source's own timestamps are. */
	if (o->started)
		o->ts += step;
	o->started = true;
	h[0] = 0x80; /* version 2, no padding, extension or CSRC */
	h[1] = (uint8_t)((marker ? 0x80 : 0) | o->pt);
	h[2] = (uint8_t)(o->seq >> 8);
	h[3] = (uint8_t)o->seq;
	h[4] = (uint8_t)(o->ts >> 24);
	h[5] = (uint8_t)(o->ts >> 16);
	h[6] = (uint8_t)(o->ts >> 8);
	h[7] = (uint8_t)o->ts;
	h[8] = (uint8_t)(o->ssrc >> 24);
	h[9] = (uint8_t)(o->ssrc >> 16);
	h[10] = (uint8_t)(o->ssrc >> 8);
	h[11] = (uint8_t)o->ssrc;
	o->marker = false;
	o->seq++;
	return sendmsg(o->fd, &msg, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static int rtp_send(struct leg_out *o, const uint8_t *payload, size_t len,
		    uint32_t step)
{
	return rtp_sendv(o, o->marker, NULL, 0, payload, len, step);
}

static void leg_send(struct media *m, struct leg_out *o, const uint8_t *payload,
		     size_t len, uint32_t step)
{
	if (rtp_send(o, payload, len, step) == 0)
		m->packets_out++;
}

static void source_release(struct source *src);

/* Move @a leg from the source it is on (if any) to @a src (or none), its
 * sending state with it.  The source it leaves stops when it was the last
 * use of it: never called while a source walks its legs (a send calls no
 * one back).  -ENOMEM leaves it where it was. */
static int attach(struct media_leg *leg, struct source *src)
{
	struct source *old = leg->src;
	struct leg_out o = *out_of(leg);

	if (src == old)
		goto mark;
	if (src && src->nlegs == src->fan_cap) {
		/* a leg per pair of RTP ports: far fewer than INT_MAX bytes */
		unsigned cap = src->fan_cap ? 2 * src->fan_cap : 8;
		struct leg_out *fan = su_realloc(src->m->home, src->fan,
						 (isize_t)(cap * sizeof(*fan)));

		if (!fan)
			return -ENOMEM;
		src->fan = fan;
		src->fan_cap = cap;
	}
	if (old) {
		/* The last one takes its place. */
		old->fan[leg->slot] = old->fan[--old->nlegs];
		old->fan[leg->slot].leg->slot = leg->slot;
	}
	leg->src = src;
	if (src) {
		leg->slot = src->nlegs++;
		src->fan[leg->slot] = o;
	}
	else {
		leg->idle = o;
	}
	if (old)
		source_release(old);
mark:
	out_of(leg)->marker = true;
	if (leg->elementary && src) {
		/* A video leg waits for the new stream's next keyframe; every
		 * leg's timeline steps by the time it did not send. */
		out_of(leg)->key_wait = src->codec != CODEC_AUDIO;
		out_of(leg)->rebase = true;
	}
	return 0;
}

/* -- pacing ---------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int pacer_open(struct media *m, struct pacer *p, su_wakeup_f cb,
		      su_wakeup_arg_t *arg)
{
	su_wait_t w;

	p->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->fd < 0)
		return -errno;
	if (su_wait_create(&w, p->fd, SU_WAIT_IN) < 0)
		return -EIO;
	p->reg = su_root_register(m->root, &w, cb, arg, 0);
	return p->reg > 0 ? 0 : -EIO;
}

static void pacer_close(struct media *m, struct pacer *p)
{
	if (p->reg > 0)
		su_root_deregister(m->root, p->reg);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->reg = 0;
}

/* Fire at @a at (CLOCK_MONOTONIC ns), then every @a every ns (0: once);
 * @a at of 0 stops it. */
static void pacer_set(struct pacer *p, uint64_t at, uint64_t every)
{
	struct itimerspec its = {
	    .it_value = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)},
	    .it_interval = {(time_t)(every / 1000000000u),
			    (long)(every % 1000000000u)},
	};

	timerfd_settime(p->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* How many times it fired since it was last read (0: a spurious wakeup). */
static uint64_t pacer_read(struct pacer *p)
{
	uint64_t n = 0;

	return read(p->fd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

/* -- sources --------------------------------------------------------------- */

/* A generated source sends to its channel's group too, from a session of
 * its own, on the configured interface with the configured TTL (0 keeps it
 * on this host). */
static int group_out_open(struct media *m, struct source *src,
			  const struct channel *ch)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&src->grp_addr;
	struct in_addr ifaddr;
	unsigned char ttl = (unsigned char)m->ttl;
	int fd;

	if (!ch->group)
		return 0;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)ch->port);
	if (inet_pton(AF_INET, ch->group, &sin->sin_addr) != 1)
		return -EINVAL;
	src->out = session_new(m, RTP_SESSION_SENDONLY, ch->pt);
	if (!src->out)
		return -ENOMEM;
	if (rtp_session_set_local_addr(src->out, m->bind_addr, -1, -1) < 0)
		return -EADDRNOTAVAIL;
	fd = rtp_session_get_rtp_socket(src->out);
	inet_pton(AF_INET, m->mcast_if, &ifaddr);
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
		       sizeof(ifaddr)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0)
		return -errno;
	src->grp.fd = fd;
	src->grp.pt = (uint8_t)ch->pt;
	src->grp.peer = &src->grp_addr;
	src->grp.ssrc = rtp_session_get_send_ssrc(src->out);
	src->grp.seq = (uint16_t)random();
	/* Connected, as a leg: a host without a route to the group keeps
	 * naming it on each packet, and says so once when a send fails. */
	src->grp.connected =
	    connect(fd, (struct sockaddr *)sin, sizeof(*sin)) == 0;
	return 0;
}

static void group_send(struct source *src, const uint8_t *payload, size_t len,
		       uint32_t step)
{
	int err;

	if (!src->out)
		return;
	err = rtp_send(&src->grp, payload, len, step);
	if (err < 0 && !src->out_failed) {
		/* Once: a host without a route for the group says so on
		 * every packet. */
		log_warn("source %s: cannot send to its group (%s)",
			 src->channel, strerror(-err));
		src->out_failed = true;
	}
}

/* 20 ms of a tone source, to its group and its legs. */
static void tone_send(struct source *src)
{
	int16_t pcm[SAMPLES];
	uint8_t mu[SAMPLES], a[SAMPLES];
	double step = 2.0 * M_PI * src->freq / 8000.0;

	if (!src->nlegs && !src->out)
		return;
	/* A steady tone: channels differ by pitch, so a listener hears the
	 * switch. */

	for (unsigned i = 0; i < SAMPLES; i++, src->sample++) {
		bool on = !src->beep || src->sample % 8000 < 1600;

		pcm[i] = (int16_t)(on ? 9000.0 * sin(src->phase) : 0);
		src->phase += step;
	}
	src->phase = fmod(src->phase, 2.0 * M_PI);
	for (unsigned i = 0; i < SAMPLES; i++) {
		mu[i] = ulaw(pcm[i]);
		a[i] = alaw(pcm[i]);
	}
	group_send(src, src->pt == 8 ? a : mu, SAMPLES, SAMPLES);
	for (unsigned i = 0; i < src->nlegs; i++)
		leg_send(src->m, &src->fan[i], src->fan[i].pt == 8 ? a : mu,
			 SAMPLES, SAMPLES);
}

/* Every tone on one timer: the loop wakes once for all of them.  Ticks
 * missed while the loop was held up are made up, a few at most. */
static int tone_tick(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct media *m = arg;
	uint64_t n = pacer_read(&m->tones);

	if (n > 3)
		n = 3;
	while (n--)
		for (struct source *s = m->sources; s; s = s->next)
			if (s->ticking)
				tone_send(s);
	return 0;
}

/* Keep one sent packet for instant channel change. */
/* Keep one sent packet for instant channel change.  Packets that are not
 * transport stream packets (no sync byte, an adaptation field longer than
 * the packet) are not kept: a decoder would only stumble on them. */
static void icc_keep(struct source *src, const uint8_t *p)
{
	struct rtpin_ts t;

	if (rtpin_ts_packet(p, TS_PACKET, &t) < 0)
		return;
	/* A feed: the first PID with a PCR is the video's. */
	if (src->key_pid > 0x1fff && t.pcr)
		src->key_pid = t.pid;
	if (t.pid == 0) {
		src->icc_pat = src->icc_len; /* a place to start from */
	}
	else if (t.pid == src->key_pid && t.unit_start && t.random_access &&
		 src->icc_pat != ICC_NONE) {
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
	struct leg_out *o;

	if (!src || !src->icc_ok || leg->pt != 33)
		return;
	o = out_of(leg);
	for (size_t off = 0; off < src->icc_len;
	     off += TS_PER_RTP * TS_PACKET) {
		size_t len = src->icc_len - off;

		if (len > TS_PER_RTP * TS_PACKET)
			len = TS_PER_RTP * TS_PACKET;
		leg_send(src->m, o, src->icc + off, len,
			 o->marker ? VIDEO_STEP : 0);
	}
}

/* Wake when the next chunk is due, not before: a timer that polled the
 * clock every 5 ms woke the loop 200 times a second for some 40 chunks
 * (docs/performance.md). */
static void ts_arm(struct source *src)
{
	uint64_t due = tsfile_next_due(src->ts) + src->skew;

	pacer_set(&src->pace, src->t0 + due * 1000 / 27, 0);
}

/* Send every chunk of the file that is due.  A loop that was held up (a
 * long database answer, a debugger) skips what it missed rather than
 * sending it in a burst a decoder's buffer would overflow with. */
static int ts_tick(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct source *src = arg;
	uint8_t buf[TS_PER_RTP * TS_PACKET];
	uint64_t now, due = tsfile_next_due(src->ts), at;

	pacer_read(&src->pace);
	now = (mono_ns() - src->t0) * 27 / 1000;
	if (now > src->skew + due + TS_LATE)
		src->skew = now - due;
	for (; due + src->skew <= now; due = tsfile_next_due(src->ts)) {
		size_t len = tsfile_take(src->ts, buf, &at);
		uint32_t ts90 = (uint32_t)(at / 300), step = ts90 - src->ts_rtp;

		src->ts_rtp = ts90;
		if (src->icc_on)
			for (size_t off = 0; off < len; off += TS_PACKET)
				icc_keep(src, buf + off);
		group_send(src, buf, len, step);
		for (unsigned i = 0; i < src->nlegs; i++) {
			struct leg_out *o = &src->fan[i];

			if (o->pt == 33)
				leg_send(src->m, o, buf, len,
					 o->marker || !step ? VIDEO_STEP
							    : step);
		}
	}
	ts_arm(src);
	return 0;
}

/* Play @a ts (opened by the caller, or the engine's slate) from where it
 * stands: a slate that stopped when its last leg left goes on from there
 * when the next one comes. */
static int ts_start(struct media *m, struct source *src, struct tsfile *ts)
{
	int err;

	src->ts = ts;
	if (src->icc_on)
		src->key_pid = tsfile_pcr_pid(ts);
	src->t0 = mono_ns() - tsfile_position(ts) * 1000 / 27;
	err = pacer_open(m, &src->pace, ts_tick, src);
	if (err < 0)
		return err;
	ts_arm(src);
	return 0;
}

static int tone_start(struct media *m, struct source *src, const char *hz)
{
	src->freq = atof(hz);
	if (src->freq <= 0 || src->freq >= 4000)
		return -EINVAL;
	if (m->ntones++ == 0) {
		uint64_t tick = TONE_MS * 1000000u;

		pacer_set(&m->tones, mono_ns() + tick, tick);
	}
	src->ticking = true;
	return 0;
}

/* Whether a member may start on this packet of video stream @a src: a
 * VP8 key frame's first packet; for H.264 a packet with an SPS before any
 * slice of its access unit (a new RTP timestamp begins one), so a member
 * never starts inside a picture. */
static bool stream_key(struct source *src, const struct rtpin *r,
		       struct rtpin_video *v)
{
	bool key;

	memset(v, 0, sizeof(*v));
	if (src->codec == CODEC_VP8)
		return rtpin_vp8(r, v) == 0 && v->key;
	if (src->codec != CODEC_H264)
		return false;
	if (!src->au_started || r->ts != src->au_ts) {
		src->au_started = true;
		src->au_ts = r->ts;
		src->au_vcl = false;
	}
	if (rtpin_h264(r, v) < 0)
		return false;
	key = v->key && !src->au_vcl;
	src->au_vcl = src->au_vcl || v->vcl;
	return key;
}

/* One packet of a stream of separate streams to leg @a o: the leg's
 * payload type and timeline (@a step, or after a switch the time it sent
 * nothing), its marker bits as the source's (an audio leg's first packet
 * after a switch marked), a VP8 PictureID that goes on from the leg's
 * last. */
static void stream_out(struct source *src, struct leg_out *o,
		       const struct rtpin *r, const struct rtpin_video *v,
		       bool key, uint32_t step, uint64_t now)
{
	uint8_t buf[8];
	size_t at = 0, hl = 0;
	bool marker = r->marker;

	o->key_wait = false;
	/* A keyframe's PictureID is the next of the leg's: what came
	 * before it (another channel, another encoder) is never referred
	 * to again. */
	if (key && v->has_picture_id)
		o->pid_off =
		    (uint16_t)(o->pid_sent ? o->pid_last + 1u - v->picture_id
					   : 0);
	if (o->rebase) {
		/* The time it sent nothing, in the stream's clock: a
		 * decoder's clock and ours stay together. */
		uint64_t gap =
		    o->last_ns && now > o->last_ns
			? (now - o->last_ns) * src->clock / 1000000000u
			: 0;

		step = gap ? (uint32_t)gap : 1;
		o->rebase = false;
		/* RFC 3551 §4.1: the first packet of the new sound */
		marker = marker || (src->codec == CODEC_AUDIO);
	}
	if (v->has_picture_id) {
		uint16_t mask = v->wide_picture_id ? 0x7fff : 0x7f;
		uint16_t id = (uint16_t)((v->picture_id + o->pid_off) & mask);

		at = v->picture_id_at;
		hl = v->wide_picture_id ? 2 : 1;
		/* the descriptor up to the PictureID, ours, then the rest */
		memcpy(buf, r->payload, at);
		buf[at] = v->wide_picture_id ? (uint8_t)(0x80 | id >> 8)
					     : (uint8_t)id;
		if (hl == 2)
			buf[at + 1] = (uint8_t)id;
		o->pid_last = id;
		o->pid_sent = true;
	}
	if (rtp_sendv(o, marker, buf, at + hl, r->payload + at + hl,
		      r->payload_len - at - hl, step) == 0)
		src->m->packets_out++;
	o->last_ns = now;
}

/* One packet of a stream of separate streams to each of its legs; a video
 * leg waiting for a keyframe takes none before it. */
static void stream_send(struct source *src, const struct rtpin *r,
			const struct rtpin_video *v, bool key, uint32_t step)
{
	uint64_t now = 0;

	for (unsigned i = 0; i < src->nlegs; i++) {
		struct leg_out *o = &src->fan[i];

		if (o->key_wait && !key)
			continue;
		if (!now)
			now = mono_ns();
		stream_out(src, o, r, v, key, step, now);
	}
}

/* Keep datagram @a p of @a n bytes for instant change: from a keyframe
 * on, a GOP's worth at most (a stream whose keyframes are further apart
 * than VC_MAX holds has no cache: its members wait for the next). */
#define VC_MAX (2u << 20)
static void vc_keep(struct source *src, const uint8_t *p, size_t n, bool key)
{
	if (key) {
		src->vc_len = 0;
		src->vc_ok = true;
	}
	if (!src->vc_ok)
		return;
	if (src->vc_len + 2 + n > VC_MAX) {
		src->vc_ok = false;
		src->vc_len = 0;
		return;
	}
	if (src->vc_len + 2 + n > src->vc_cap) {
		size_t cap = src->vc_cap ? 2 * src->vc_cap : 64 * 1024;
		uint8_t *c;

		while (cap < src->vc_len + 2 + n)
			cap *= 2;
		if (cap > VC_MAX)
			cap = VC_MAX;
		c = su_realloc(src->m->home, src->vc, (isize_t)cap);
		if (!c) {
			src->vc_ok = false;
			src->vc_len = 0;
			return;
		}
		src->vc = c;
		src->vc_cap = cap;
	}
	src->vc[src->vc_len] = (uint8_t)(n >> 8);
	src->vc[src->vc_len + 1] = (uint8_t)n;
	memcpy(src->vc + src->vc_len + 2, p, n);
	src->vc_len += 2 + n;
}

/* A video leg that has just joined or switched to @a src gets what was
 * sent since the last keyframe at once, its pictures a millisecond apart
 * on the leg's timeline (its decoder decodes them all and shows the last:
 * the channel as it is now), then the stream as it comes. */
static void vc_burst(struct media_leg *leg)
{
	struct source *src = leg->src;
	struct leg_out *o;
	uint64_t now;
	uint32_t prev = 0;
	bool first = true;

	if (!src || !src->elementary || src->codec == CODEC_AUDIO ||
	    !src->vc_ok)
		return;
	o = out_of(leg);
	now = mono_ns();
	for (size_t off = 0; off + 2 <= src->vc_len;) {
		size_t n = (size_t)src->vc[off] << 8 | src->vc[off + 1];
		struct rtpin r;
		struct rtpin_video v = {0};

		off += 2;
		if (off + n > src->vc_len)
			break;
		if (rtpin_parse(src->vc + off, n, &r) == 0) {
			if (src->codec == CODEC_VP8 && rtpin_vp8(&r, &v) < 0)
				memset(&v, 0, sizeof(v));
			stream_out(
			    src, o, &r, &v, first,
			    first || r.ts == prev ? 0 : src->clock / 1000, now);
			prev = r.ts;
			first = false;
		}
		off += n;
	}
}

/* A packet from the channel's group: checked by the one RTP parser, then
 * forwarded as it is to the legs of its payload type. */
static int on_group(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct source *src = arg;
	struct media *m = src->m;
	uint8_t buf[2048];
	/* MSG_TRUNC: the datagram's real length, so one longer than the
	 * buffer is dropped rather than read cut short. */
	ssize_t n = recv(src->fd, buf, sizeof(buf), MSG_TRUNC);
	struct rtpin r;
	uint32_t step;

	if (n < 0)
		return 0;
	if ((size_t)n > sizeof(buf) || rtpin_parse(buf, (size_t)n, &r) < 0 ||
	    r.payload_len == 0) {
		m->packets_bad++;
		return 0;
	}
	m->packets_in++;
	if (src->elementary) {
		struct rtpin_video v;
		bool key;

		if (r.pt != src->pt)
			return 0; /* not the stream's */
		/* The packets of one picture share a timestamp (RFC 3550
		 * §5.1): the leg's too. */
		step = r.ts - src->last_ts;
		src->last_ts = r.ts;
		key = stream_key(src, &r, &v);
		if (src->codec != CODEC_AUDIO && m->instant_change)
			vc_keep(src, buf, (size_t)n, key);
		stream_send(src, &r, &v, key, step);
		return 0;
	}
	step = src->last_ts && r.ts != src->last_ts
		   ? r.ts - src->last_ts
		   : (r.pt == 33 ? VIDEO_STEP : SAMPLES);
	src->last_ts = r.ts;
	if (src->icc_on && r.pt == 33 && r.payload_len % TS_PACKET == 0)
		for (size_t o = 0; o < r.payload_len; o += TS_PACKET)
			icc_keep(src, r.payload + o);
	for (unsigned i = 0; i < src->nlegs; i++) {
		struct leg_out *o = &src->fan[i];

		if (o->pt == r.pt)
			leg_send(m, o, r.payload, r.payload_len,
				 o->marker ? (r.pt == 33 ? VIDEO_STEP : SAMPLES)
					   : step);
	}
	return 0;
}

static int join_group(struct media *m, struct source *src, const char *group,
		      unsigned port, const char *source)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	su_wait_t w;
	int one = 1;

	if (!group || inet_pton(AF_INET, group, &sin.sin_addr) != 1)
		return -EINVAL;
	src->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (src->fd < 0)
		return -errno;
	setsockopt(src->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((uint16_t)port);
	if (bind(src->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	if (source) {
		struct ip_mreq_source mr = {0};

		inet_pton(AF_INET, group, &mr.imr_multiaddr);
		if (inet_pton(AF_INET, source, &mr.imr_sourceaddr) != 1)
			return -EINVAL;
		inet_pton(AF_INET, m->mcast_if, &mr.imr_interface);
		if (setsockopt(src->fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP,
			       &mr, sizeof(mr)) < 0)
			return -errno;
	}
	else {
		struct ip_mreq mr = {0};

		inet_pton(AF_INET, group, &mr.imr_multiaddr);
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

static struct source *source_find(struct media *m, const char *channel,
				  unsigned stream)
{
	for (struct source *s = m->sources; s; s = s->next)
		if (s->stream == stream && su_strmatch(s->channel, channel))
			return s;
	return NULL;
}

/* Stop @a src: its timer, its group (closing the socket leaves it), its
 * sender.  Its legs, if any (the engine going away), are left on no
 * source. */
static void source_free(struct source *src)
{
	for (unsigned i = 0; i < src->nlegs; i++) {
		struct media_leg *leg = src->fan[i].leg;

		leg->idle = src->fan[i];
		leg->src = NULL;
	}
	su_free(src->m->home, src->fan);
	pacer_close(src->m, &src->pace);
	if (src->ticking && --src->m->ntones == 0)
		pacer_set(&src->m->tones, 0, 0);
	if (src->out)
		rtp_session_destroy(src->out);
	if (src->own_ts)
		tsfile_close(src->ts);
	su_free(src->m->home, src->icc);
	su_free(src->m->home, src->vc);
	if (src->reg > 0)
		su_root_deregister(src->m->root, src->reg);
	if (src->fd >= 0)
		close(src->fd);
	log_debug("source %s stopped", src->channel);
	su_free(src->m->home, src->channel);
	su_free(src->m->home, src);
}

/* Stop @a src if nothing uses it any more. */
static void source_release(struct source *src)
{
	struct source **pp;

	if (src->pinned || src->nlegs)
		return;
	for (pp = &src->m->sources; *pp && *pp != src; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = src->next;
	source_free(src);
}

/* Sources started that no leg took by the next turn of the loop (a leg
 * that could not be made, a caller that changed its mind). */
static void reap(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct media *m = arg;

	for (struct source *s = m->sources, *next; s; s = next) {
		next = s->next;
		source_release(s);
	}
}

/* A new source for @a ch (not yet listed): tone, transport stream (@a ts,
 * else the file the channel names) or the channel's group. */
static int source_new(struct media *m, const struct channel *ch,
		      struct tsfile *ts, struct source **ret)
{
	struct source *src = su_zalloc(m->home, sizeof(*src));
	int err = 0;

	if (!src)
		return -ENOMEM;
	src->m = m;
	src->fd = -1;
	src->pace.fd = -1;
	src->pt = ch->pt;
	src->channel = su_strdup(m->home, ch->id);
	if (!src->channel) {
		err = -ENOMEM;
	}
	else if (ch->generate && strncmp(ch->generate, "tone:", 5) == 0) {
		src->kind = SOURCE_TONE;
		err = tone_start(m, src, ch->generate + 5);
	}
	else if (ch->generate && strncmp(ch->generate, "ts:", 3) == 0) {
		char why[256];

		src->kind = SOURCE_TS;
		src->icc_on = m->instant_change && !ts;
		src->icc_pat = ICC_NONE;
		if (ch->pt != 33) {
			err = -EINVAL;
		}
		else if (!ts) {
			/* A lineup's channel, opened at start or reload. */
			err = tsfile_open(m->home, ch->generate + 3, &ts, why,
					  sizeof(why));
			if (err < 0)
				log_err("channel %s: %s", ch->id, why);
			else
				src->own_ts = true;
		}
		if (!err) {
			log_info("channel %s: %zu packets, %.1f s a pass, "
				 "%" PRIu64 " bit/s by its PCR",
				 ch->id, tsfile_packets(ts),
				 (double)tsfile_duration(ts) / TS_CLOCK,
				 tsfile_bitrate(ts));
			err = ts_start(m, src, ts);
		}
	}
	else if (ch->generate) {
		err = -EINVAL;
	}
	else {
		src->kind = SOURCE_GROUP;
		err = join_group(m, src, ch->group, ch->port, ch->source);
		if (!err && m->instant_change && ch->pt == 33) {
			src->icc_on = true;
			src->icc_pat = ICC_NONE;
			src->key_pid = 0x2000; /* learnt from the feed */
		}
	}
	if (!err && src->kind != SOURCE_GROUP)
		err = group_out_open(m, src, ch);
	if (err < 0) {
		source_free(src);
		return err;
	}
	src->next = m->sources;
	m->sources = src;
	log_debug("source %s started (%s)", ch->id,
		  src->kind == SOURCE_TONE ? "tone"
		  : src->kind == SOURCE_TS ? "ts"
					   : "group");
	*ret = src;
	return 0;
}

/* The source of stream @a i of CHANNEL_STREAMS channel @a ch: its group,
 * received as any feed is. */
static int stream_source_new(struct media *m, const struct channel *ch,
			     unsigned i, struct source **ret)
{
	const struct channel_stream *st = &ch->streams[i];
	struct source *src = su_zalloc(m->home, sizeof(*src));
	int err;

	if (!src)
		return -ENOMEM;
	src->m = m;
	src->fd = -1;
	src->pace.fd = -1;
	src->kind = SOURCE_GROUP;
	src->elementary = true;
	src->stream = i;
	src->pt = st->pt;
	src->clock = st->clock;
	src->codec = st->media == CHANNEL_AUDIO           ? CODEC_AUDIO
		     : su_casematch(st->encoding, "H264") ? CODEC_H264
							  : CODEC_VP8;
	src->channel = su_strdup(m->home, ch->id);
	err = src->channel ? join_group(m, src, st->group, st->port, st->source)
			   : -ENOMEM;
	if (err < 0) {
		source_free(src);
		return err;
	}
	src->next = m->sources;
	m->sources = src;
	log_debug("source %s stream %u started (group %s:%u)", ch->id, i,
		  st->group, st->port);
	*ret = src;
	return 0;
}

/* Every stream of a channel of separate streams: run while legs use them
 * (a group no leg took by the next turn of the loop is left). */
static int streams_start(struct media *m, const struct channel *ch)
{
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS;
	     i++) {
		struct source *src = source_find(m, ch->id, i);
		int err;

		if (!src && (err = stream_source_new(m, ch, i, &src)) < 0)
			return err;
		/* Instant change: a video stream keeps its cache warm from
		 * its first use on, as an MP2T feed does. */
		if (m->instant_change && src->codec != CODEC_AUDIO)
			src->pinned = true;
		else if (!src->nlegs)
			su_timer_set_interval(m->reap, reap, m, 0);
	}
	return 0;
}

int media_source_start(struct media *m, const struct channel *ch)
{
	struct source *src;
	int err;

	if (ch->media == CHANNEL_STREAMS)
		return ch->generate ? -EINVAL : streams_start(m, ch);
	src = source_find(m, ch->id, 0);

	if (!src) {
		err = source_new(m, ch, NULL, &src);
		if (err < 0)
			return err;
	}
	if (ch->generate || (src->kind == SOURCE_GROUP && src->icc_on))
		src->pinned = true;
	else if (!src->nlegs)
		/* Until a leg takes it, on this turn of the loop. */
		su_timer_set_interval(m->reap, reap, m, 0);
	return 0;
}

int media_source_unpin(struct media *m, const char *channel_id)
{
	int err = -ENOENT;

	/* a channel's one source, or each of its streams' */
	for (unsigned i = 0; i < CHANNEL_MAX_STREAMS; i++) {
		struct source *src = source_find(m, channel_id, i);

		if (!src)
			continue;
		src->pinned = false;
		source_release(src);
		err = 0;
	}
	return err;
}

/* RFC 4733 §2.3: an event ends with the E bit, sent three times (§2.5.1.4)
 * with the same timestamp; report it once.  Events past 15 are not keys. */
static void leg_event(struct media_leg *leg, const struct rtpin *r)
{
	static const char digits[] = "0123456789*#ABCD";
	struct rtpin_event e;

	if (rtpin_event(r, &e) < 0) {
		leg->m->packets_bad++;
		return;
	}
	if (!e.end || e.event > 15)
		return;
	if (leg->event_seen && leg->last_event_ts == r->ts)
		return;
	leg->event_seen = true;
	leg->last_event_ts = r->ts;
	if (leg->dtmf_cb)
		leg->dtmf_cb(leg->dtmf_arg, leg, digits[e.event]);
}

static bool same_peer(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

	return a->ss_family == AF_INET && b->ss_family == AF_INET &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr &&
	       x->sin_port == y->sin_port;
}

/* What the member sends on its leg: only its RFC 4733 events matter. */
static int on_leg(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct media_leg *leg = arg;
	uint8_t buf[1500];
	/* zeroed: an address the kernel does not fill in matches no peer */
	struct sockaddr_storage from = {0};
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(leg->fd, buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
	struct rtpin r;

	if (n < 0)
		return 0;
	/* Only the member may send to its leg (RFC 3550 §8.2 is about SSRC
	 * collisions; this is about strangers injecting commands). */
	if (!same_peer(&from, &leg->peer)) {
		leg->dropped++;
		return 0;
	}
	/* RTCP multiplexed on the port: a browser's receiver reports and
	 * feedback (PLI, NACK) through rtpengine.  Nothing to do with them:
	 * the feeds' encoders are not ours to ask for a keyframe, and a
	 * video leg starts at one anyway. */
	if (rtpin_is_rtcp(buf, (size_t)n))
		return 0;
	if ((size_t)n > sizeof(buf) || rtpin_parse(buf, (size_t)n, &r) < 0) {
		leg->m->packets_bad++;
		return 0;
	}
	if (leg->event_pt && r.pt == leg->event_pt)
		leg_event(leg, &r);
	return 0;
}

/* @a addr:@a port as the leg's peer, or -EINVAL (an IPv4 address in dotted
 * form only: nothing is resolved on the loop). */
static int peer_of(const char *addr, unsigned port,
		   struct sockaddr_storage *ret)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	if (!addr || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -EINVAL;
	sin.sin_port = htons((uint16_t)port);
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, &sin, sizeof(sin));
	return 0;
}

/* Connect the leg's socket to its peer: the kernel then keeps the route
 * (no lookup a packet: about half of what sending to every leg with one
 * sendmmsg would save, which one socket a leg rules out;
 * docs/performance.md), and drops what anyone else sends to it before it
 * wakes the loop.  Where it
 * cannot (no route from the bound address), the leg names its peer on each
 * packet as before. */
static void leg_connect(struct media_leg *leg)
{
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct leg_out *o = out_of(leg);

	o->connected = connect(leg->fd, (struct sockaddr *)&leg->peer,
			       sizeof(struct sockaddr_in)) == 0;
	if (!o->connected) {
		log_debug("leg %u: sending unconnected (%s)", leg->port,
			  strerror(errno));
		connect(leg->fd, &unspec, sizeof(unspec));
	}
}

/* The next free slot; the caller knows there is one. */
static unsigned slot_take(struct media *m)
{
	unsigned slot = m->free_slots[m->free_head];

	m->free_head = (m->free_head + 1) % m->nslots;
	m->free_count--;
	return slot;
}

static void slot_give(struct media *m, unsigned slot)
{
	m->free_slots[(m->free_head + m->free_count) % m->nslots] = slot;
	m->free_count++;
}

/* The leg's socket, bound to @a port of the media address, or -errno.
 * Its own, not ortp's: ortp binds an RTCP socket beside each RTP one, and
 * a leg reads RTCP only multiplexed on its RTP port (on_leg()), so that
 * second socket was an open file a leg for nothing (a node taking over
 * 10,000 relay members needed 20,000 of them, past this machine's hard
 * limit).  The odd port stays unused: no leg takes one. */
static int leg_socket(struct media *m, unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd, err;

	if (inet_pton(AF_INET, m->bind_addr, &sin.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* A leg on @a src sending to @a addr:@a port with payload type @a pt. */
static int leg_new(struct media *m, struct source *src, const char *addr,
		   unsigned port, unsigned pt, struct media_leg **ret_leg,
		   unsigned *ret_port)
{
	struct sockaddr_storage peer;
	struct media_leg *leg;
	su_wait_t w;
	int err;

	/* A stream leg may wait for its peer (port 0): it sends nothing
	 * anyone receives until media_leg_retarget(). */
	memset(&peer, 0, sizeof(peer));
	err = src->elementary && port == 0 ? 0 : peer_of(addr, port, &peer);
	if (err < 0)
		goto fail;
	err = -ENOMEM;
	leg = su_zalloc(m->home, sizeof(*leg));
	if (!leg)
		goto fail;
	leg->m = m;
	leg->pt = pt;
	leg->peer = peer;
	leg->fd = -1;
	leg->elementary = src->elementary;
	leg->rtp = session_new(m, RTP_SESSION_SENDRECV, pt);
	if (!leg->rtp) {
		su_free(m->home, leg);
		goto fail;
	}
	leg->idle.leg = leg;
	leg->idle.peer = &leg->peer;
	leg->idle.pt = (uint8_t)pt;
	leg->idle.ssrc = rtp_session_get_send_ssrc(leg->rtp);
	leg->idle.seq = (uint16_t)random(); /* RFC 3550 §5.1: random */
	if (leg->elementary)
		leg->idle.ts = (uint32_t)random(); /* RFC 3550 §5.1 */
	/* An even port of the range that binds (RFC 3550 §11).  One that
	 * does not (another process holds it) goes to the back.  Out of open
	 * files, no other port would do better. */
	for (unsigned tries = m->free_count; tries; tries--) {
		unsigned p = m->port_min + 2 * slot_take(m);
		int fd = leg_socket(m, p);

		if (fd >= 0) {
			leg->port = p;
			leg->fd = fd;
			break;
		}
		slot_give(m, (p - m->port_min) / 2);
		if (fd == -EMFILE || fd == -ENFILE) {
			log_warn("no relay leg: out of open files (%s)",
				 strerror(-fd));
			break;
		}
	}
	if (!leg->port) {
		media_leg_destroy(leg);
		err = -EADDRINUSE;
		goto fail;
	}
	leg->idle.fd = leg->fd;
	if (port)
		leg_connect(leg);
	if (su_wait_create(&w, leg->fd, SU_WAIT_IN) == 0)
		leg->reg = su_root_register(m->root, &w, on_leg, leg, 0);
	if (leg->reg <= 0 || attach(leg, src) < 0) {
		media_leg_destroy(leg);
		goto fail;
	}
	icc_burst(leg);
	vc_burst(leg);
	*ret_leg = leg;
	*ret_port = leg->port;
	return 0;
fail:
	source_release(src); /* started for this leg only */
	return err;
}

int media_leg_create(struct media *m, const char *channel_id, const char *addr,
		     unsigned port, unsigned pt, struct media_leg **ret_leg,
		     unsigned *ret_port)
{
	struct source *src = source_find(m, channel_id, 0);

	if (!src || src->elementary)
		return -ENOENT;
	return leg_new(m, src, addr, port, pt, ret_leg, ret_port);
}

int media_leg_create_stream(struct media *m, const char *channel_id,
			    unsigned stream, const char *addr, unsigned port,
			    unsigned pt, struct media_leg **ret_leg,
			    unsigned *ret_port)
{
	struct source *src = source_find(m, channel_id, stream);

	if (!src || !src->elementary || pt > 127)
		return -ENOENT;
	return leg_new(m, src, addr, port, pt, ret_leg, ret_port);
}

void media_leg_chain(struct media_leg *leg, struct media_leg *next)
{
	while (leg->next)
		leg = leg->next;
	leg->next = next;
}

struct media_leg *media_leg_next(const struct media_leg *leg)
{
	return leg ? leg->next : NULL;
}

unsigned media_leg_port(const struct media_leg *leg)
{
	return leg ? leg->port : 0;
}

int media_leg_switch(struct media_leg *leg, const char *channel_id)
{
	struct source *src = source_find(leg->m, channel_id, 0);
	int err;

	if (!src || src->elementary || leg->elementary)
		return -ENOENT;
	if (src != leg->src) {
		err = attach(leg, src);
		if (err < 0) {
			source_release(src);
			return err;
		}
		icc_burst(leg);
	}
	return 0;
}

int media_leg_switch_stream(struct media_leg *leg, const char *channel_id,
			    unsigned stream, unsigned pt)
{
	struct source *src = source_find(leg->m, channel_id, stream);
	int err;

	if (!src || !src->elementary || !leg->elementary || pt > 127)
		return -ENOENT;
	if (src == leg->src)
		return 0;
	err = attach(leg, src);
	if (err < 0) {
		source_release(src);
		return err;
	}
	leg->pt = pt;
	out_of(leg)->pt = (uint8_t)pt;
	vc_burst(leg);
	return 0;
}

#define SLATE_AUDIO "-slate-audio"
#define SLATE_VIDEO "-slate-video"

/* The slate runs while a leg watches it: a tone made on the loop, or the
 * transport stream read when the engine started. */
int media_leg_slate(struct media_leg *leg)
{
	struct media *m = leg->m;
	bool video = leg->pt == 33;
	const char *id = video ? SLATE_VIDEO : SLATE_AUDIO;
	struct channel ch = {
	    .id = id,
	    .name = "not in your package",
	    .media = video ? CHANNEL_VIDEO : CHANNEL_AUDIO,
	    .pt = video ? 33 : 0,
	    .generate = video ? "ts:" : "tone:1000",
	};
	struct source *src = source_find(m, id, 0);
	int err;

	/* No slate is made for a stream's encoding (VP8, H.264, Opus): such
	 * a leg stays where it is. */
	if ((video && !m->slate) || leg->elementary)
		return -ENOENT;
	/* Sent to the legs that need it only: no group, no pin. */
	if (!src && (err = source_new(m, &ch, m->slate, &src)) < 0)
		return err;
	src->beep = !video;
	if (src != leg->src && (err = attach(leg, src)) < 0) {
		source_release(src);
		return err;
	}
	return 0;
}

int media_leg_retarget(struct media_leg *leg, const char *addr, unsigned port)
{
	struct sockaddr_storage peer;
	int err = peer_of(addr, port, &peer);

	/* The leg's sends and the peer check of on_leg read the same
	 * address, so both move at once; a bad one changes nothing. */
	if (err < 0)
		return err;
	leg->peer = peer;
	leg_connect(leg);
	return 0;
}

struct media_leg *media_leg_destroy(struct media_leg *leg)
{
	struct media *m;

	if (!leg)
		return NULL;
	media_leg_destroy(leg->next);
	m = leg->m;
	attach(leg, NULL);
	if (leg->reg > 0)
		su_root_deregister(m->root, leg->reg);
	if (leg->fd >= 0)
		close(leg->fd);
	if (leg->port)
		slot_give(m, (leg->port - m->port_min) / 2);
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

uint64_t media_packets_in(const struct media *m)
{
	return m->packets_in;
}

uint64_t media_packets_bad(const struct media *m)
{
	return m->packets_bad;
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
	if (m->reap)
		su_timer_destroy(m->reap);
	pacer_close(m, &m->tones);
	tsfile_close(m->slate);
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
	m->tones.fd = -1;
	/* First: whatever is made below is undone by it, however far this
	 * gets. */
	if (su_home_destructor(m->home, media_destructor) < 0)
		goto fail;
	m->root = root;
	m->bind_addr = su_strdup(m->home, cfg->bind_addr);
	m->mcast_if = su_strdup(m->home, cfg->multicast_if ? cfg->multicast_if
							   : cfg->bind_addr);
	m->instant_change = cfg->instant_change;
	m->port_min = cfg->port_min;
	m->port_max = cfg->port_max;
	m->ttl = cfg->multicast_ttl;
	/* the pairs that fit: port_max itself may be an RTP port only */
	m->nslots = (cfg->port_max - cfg->port_min + 1) / 2;
	m->free_slots =
	    su_alloc(m->home, (isize_t)(m->nslots * sizeof(*m->free_slots)));
	for (unsigned i = 0; m->free_slots && i < m->nslots; i++)
		slot_give(m, i);
	m->profile = profile_new();
	m->reap = su_timer_create(su_root_task(root), 0);
	if (!m->bind_addr || !m->mcast_if || !m->free_slots || !m->profile ||
	    !m->reap || pacer_open(m, &m->tones, tone_tick, m) < 0)
		goto fail;
	/* The slate is read now, up to TS_MAX_BYTES: the first member who
	 * cannot follow a switch must not stall the loop, and a slate that
	 * cannot play is the configuration's error, reported at start. */
	if (cfg->slate_ts && *cfg->slate_ts) {
		char why[256];

		if (tsfile_open(m->home, cfg->slate_ts, &m->slate, why,
				sizeof(why)) < 0) {
			log_err("slate_ts: %s", why);
			goto fail;
		}
	}
	return m;
fail:
	su_home_unref(m->home);
	return NULL;
}

struct media *media_destroy(struct media *m)
{
	if (m)
		su_home_unref(m->home);
	return NULL;
}
