/* M3U lineups as IPTV operators publish them:
 *
 *   #EXTM3U
 *   #EXTINF:-1 tvg-id="news" tvg-name="Demo News" tvg-chno="1",Demo News
 *   rtp://@232.10.0.1:5004
 *
 * An #EXTINF line describes the channel, the next URL line says where its
 * stream is: rtp:// or udp://, "@GROUP:PORT", or "SOURCE@GROUP:PORT" for
 * source-specific multicast.  tvspace's own attributes (tvspace-media,
 * tvspace-pt, tvspace-ttl, tvspace-generate) say what the stream carries
 * and whether the server plays it itself.  A channel of separate RTP
 * streams (a picture and its sound, for web browsers) names its media and
 * describes each stream in an attribute of its own:
 *
 *   #EXTINF:-1 tvg-id="red" tvspace-media="video audio"
 *     tvspace-video="96 VP8/90000 232.20.0.11:5004"
 *     tvspace-audio="0 PCMU/8000 232.20.0.11:5006",Test Red
 *   rtp://@232.20.0.11:5004
 *
 * each "PT ENCODING/CLOCK[/CHANNELS] [SOURCE@]GROUP:PORT", with its a=fmtp
 * in tvspace-video-fmtp or tvspace-audio-fmtp; the URL line names one of
 * them.  The text is untrusted: never read past its end, and say which
 * line is wrong. */
#include "server/lineup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_string.h>

#include "server/catalog.h"
#include "server/textfile.h"

#define FIELD 256

struct entry {
	unsigned line; /* of the #EXTINF */
	char id[FIELD], name[FIELD], title[FIELD];
	char media[32], generate[FIELD];
	/* tvspace-video, tvspace-audio and their -fmtp */
	char stream[2][FIELD], fmtp[2][FIELD];
	unsigned number, pt, ttl;
	int has_pt;
};

/* Where entry.stream[] and entry.fmtp[] keep each media type. */
enum { S_VIDEO, S_AUDIO };

struct lp {
	struct catalog *cat;
	const char *base; /* folder of the file, for ts: paths */
	unsigned line;
	char *err;
	size_t errlen;
};

static int fail(struct lp *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct lp *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	textfile_line_error(p->err, p->errlen, p->line, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

/* Why @a s (@a n bytes) cannot be a channel's text, or NULL.  Ids and
 * names go into SIP messages and the conference-info XML of every NOTIFY
 * (sip/confinfo.c): a control character or a byte that is not UTF-8 would
 * make that document not well-formed for every subscriber. */
static const char *bad_text(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++) {
		unsigned more, min;
		uint32_t cp;

		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return "control character in the line";
		if (u[i] < 0x80)
			continue;
		if ((u[i] & 0xe0) == 0xc0)
			more = 1, min = 0x80, cp = u[i] & 0x1fu;
		else if ((u[i] & 0xf0) == 0xe0)
			more = 2, min = 0x800, cp = u[i] & 0x0fu;
		else if ((u[i] & 0xf8) == 0xf0)
			more = 3, min = 0x10000, cp = u[i] & 0x07u;
		else
			return "the line is not UTF-8";
		if (n - i <= more)
			return "the line is not UTF-8";
		for (unsigned k = 1; k <= more; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return "the line is not UTF-8";
			cp = cp << 6 | (u[i + k] & 0x3fu);
		}
		/* overlong forms, UTF-16 surrogates, past U+10FFFF */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return "the line is not UTF-8";
		i += more;
	}
	return NULL;
}

/* Copy @a s into @a buf of @a size, cut (if it must be) before a UTF-8
 * sequence rather than inside one. */
static void copy_utf8(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* key="value" attributes of an #EXTINF line, then ",title". */
static int parse_extinf(struct lp *p, const char *s, struct entry *e)
{
	const char *q;

	memset(e, 0, sizeof(*e));
	e->line = p->line;
	/* the duration, up to the first space or comma */
	while (*s && *s != ' ' && *s != '\t' && *s != ',')
		s++;
	for (;;) {
		char key[64], val[FIELD];
		size_t kn, vn;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == ',')
			break;
		for (q = s; *q && *q != '=' && *q != ' ' && *q != ','; q++)
			;
		kn = (size_t)(q - s);
		if (*q != '=' || q[1] != '"')
			return fail(p, "expected key=\"value\" in #EXTINF");
		if (kn >= sizeof(key))
			return fail(p, "attribute name too long");
		memcpy(key, s, kn);
		key[kn] = '\0';
		s = q + 2;
		q = strchr(s, '"');
		if (!q)
			return fail(p, "unterminated quote in %s", key);
		vn = (size_t)(q - s);
		if (vn >= sizeof(val))
			return fail(p, "%s is too long", key);
		memcpy(val, s, vn);
		val[vn] = '\0';
		s = q + 1;
		if (strcmp(key, "tvg-id") == 0)
			strcpy(e->id, val);
		else if (strcmp(key, "tvg-name") == 0)
			strcpy(e->name, val);
		else if (strcmp(key, "tvg-chno") == 0) {
			if (parse_uint(val, 99999, &e->number) < 0 ||
			    !e->number)
				return fail(p, "tvg-chno must be a number "
					       "from 1");
		}
		else if (strcmp(key, "tvspace-media") == 0) {
			if (strcmp(val, "video") != 0 &&
			    strcmp(val, "audio") != 0 &&
			    strcmp(val, "video audio") != 0 &&
			    strcmp(val, "audio video") != 0)
				return fail(p, "tvspace-media must be video, "
					       "audio, or \"video audio\"");
			strcpy(e->media, val);
		}
		else if (strcmp(key, "tvspace-video") == 0)
			strcpy(e->stream[S_VIDEO], val);
		else if (strcmp(key, "tvspace-audio") == 0)
			strcpy(e->stream[S_AUDIO], val);
		else if (strcmp(key, "tvspace-video-fmtp") == 0)
			strcpy(e->fmtp[S_VIDEO], val);
		else if (strcmp(key, "tvspace-audio-fmtp") == 0)
			strcpy(e->fmtp[S_AUDIO], val);
		else if (strcmp(key, "tvspace-pt") == 0) {
			if (parse_uint(val, 127, &e->pt) < 0)
				return fail(p, "tvspace-pt must be a payload "
					       "type 0 to 127");
			e->has_pt = 1;
		}
		else if (strcmp(key, "tvspace-ttl") == 0) {
			if (parse_uint(val, 255, &e->ttl) < 0)
				return fail(p, "tvspace-ttl must be 0 to 255");
		}
		else if (strcmp(key, "tvspace-generate") == 0)
			strcpy(e->generate, val);
		/* other attributes (group-title, tvg-logo...) are the
		 * player's business */
	}
	if (*s == ',') {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		copy_utf8(e->title, sizeof(e->title), s);
	}
	return 0;
}

static int is_multicast4(const char *a)
{
	struct in_addr in;

	return inet_pton(AF_INET, a, &in) == 1 &&
	       IN_MULTICAST(ntohl(in.s_addr));
}

/* [SOURCE]@GROUP:PORT, GROUP:PORT: a stream URL's after its scheme, or a
 * stream's address in tvspace-video and tvspace-audio. */
static int parse_addr(struct lp *p, const char *s, char *group, char *source,
		      unsigned *port)
{
	const char *at, *colon;
	char host[64];
	size_t n;

	if (*s == '[' || strchr(s, '[') || strchr(s, ']'))
		return fail(p, "IPv6 groups are not supported yet");
	source[0] = '\0';
	at = strchr(s, '@');
	if (at) {
		n = (size_t)(at - s);
		if (n >= 64)
			return fail(p, "source address too long");
		memcpy(source, s, n);
		source[n] = '\0';
		s = at + 1;
	}
	colon = strrchr(s, ':');
	if (!colon)
		return fail(p, "the stream URL needs a port");
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return fail(p, "group address too long");
	memcpy(host, s, n);
	host[n] = '\0';
	{
		char portstr[16];
		const char *pe = colon + 1;
		size_t pn = strcspn(pe, "/?");

		if (pn >= sizeof(portstr) || pe[pn] != '\0')
			return fail(p, "bad port in the stream URL");
		memcpy(portstr, pe, pn);
		portstr[pn] = '\0';
		if (parse_uint(portstr, 65535, port) < 0 || !*port)
			return fail(p, "the port must be 1 to 65535");
	}
	if (!is_multicast4(host))
		return fail(p, "'%s' is not an IPv4 multicast group", host);
	if (source[0]) {
		struct in_addr in;

		if (inet_pton(AF_INET, source, &in) != 1)
			return fail(p, "'%s' is not an IPv4 source address",
				    source);
	}
	strcpy(group, host);
	return 0;
}

/* rtp://[SOURCE]@GROUP:PORT, udp://@GROUP:PORT, rtp://GROUP:PORT */
static int parse_url(struct lp *p, const char *url, char *group, char *source,
		     unsigned *port)
{
	if (strncmp(url, "rtp://", 6) != 0 && strncmp(url, "udp://", 6) != 0)
		return fail(p, "the stream URL must be rtp:// or udp://");
	return parse_addr(p, url + 6, group, source, port);
}

/* What one stream of a channel of several is, with room for its text. */
struct stream_text {
	char encoding[32], group[64], source[64];
};

static bool is_token_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("-_.+", c));
}

/* tvspace-video or tvspace-audio: "PT ENCODING/CLOCK[/CHANNELS]
 * [SOURCE@]GROUP:PORT" into @a st (its strings in @a t). */
static int parse_stream(struct lp *p, const char *key, const char *v,
			struct channel_stream *st, struct stream_text *t)
{
	char pt[8], rtpmap[64], addr[160], extra[2];
	char *clock, *chans;
	unsigned n;

	if (sscanf(v, "%7s %63s %159s %1s", pt, rtpmap, addr, extra) != 3)
		return fail(p,
			    "%s is \"PT ENCODING/CLOCK[/CHANNELS] "
			    "[SOURCE@]GROUP:PORT\"",
			    key);
	if (parse_uint(pt, 127, &st->pt) < 0)
		return fail(p, "%s: the payload type is 0 to 127", key);
	clock = strchr(rtpmap, '/');
	if (!clock || clock == rtpmap)
		return fail(p, "%s: the encoding is NAME/CLOCK", key);
	*clock++ = '\0';
	chans = strchr(clock, '/');
	if (chans)
		*chans++ = '\0';
	for (const char *c = rtpmap; *c; c++)
		if (!is_token_char(*c))
			return fail(p, "%s: bad encoding name", key);
	if (strlen(rtpmap) >= sizeof(t->encoding) ||
	    parse_uint(clock, 1000000, &st->clock) < 0 || !st->clock)
		return fail(p, "%s: bad encoding or clock rate", key);
	if (chans && (parse_uint(chans, 8, &n) < 0 || !n))
		return fail(p, "%s: channels are 1 to 8", key);
	st->channels = chans ? n : 0;
	strcpy(t->encoding, rtpmap);
	st->encoding = t->encoding;
	if (parse_addr(p, addr, t->group, t->source, &st->port) < 0)
		return -EBADMSG;
	st->group = t->group;
	st->source = t->source[0] ? t->source : NULL;
	return 0;
}

/* A one-stream channel of MP2T, PCMU or PCMA at their static payload
 * types is an ordinary channel of the lineup, whichever way it is
 * written. */
static bool plain_stream(const struct channel_stream *st)
{
	if (st->media == CHANNEL_VIDEO)
		return st->pt == 33 && su_casematch(st->encoding, "MP2T") &&
		       st->clock == 90000;
	return ((st->pt == 0 && su_casematch(st->encoding, "PCMU")) ||
		(st->pt == 8 && su_casematch(st->encoding, "PCMA"))) &&
	       st->clock == 8000 && st->channels <= 1;
}

/* The streams of @a e (tvspace-media with tvspace-video, tvspace-audio),
 * in @a ch; the URL's group and port (@a ch's own) must be one of them. */
static int add_streams(struct lp *p, struct entry *e, struct channel *ch,
		       struct stream_text t[CHANNEL_MAX_STREAMS])
{
	static const char *const keys[] = {"tvspace-video", "tvspace-audio"};
	const char *m = e->media;
	bool url = false;

	for (unsigned k = 0; k < 2; k++)
		if ((e->stream[k][0] || e->fmtp[k][0]) &&
		    !strstr(e->media, k == S_VIDEO ? "video" : "audio"))
			return fail(p, "%s without tvspace-media naming it",
				    e->stream[k][0] ? keys[k]
				    : k == S_VIDEO  ? "tvspace-video-fmtp"
						    : "tvspace-audio-fmtp");
	for (unsigned i = 0; *m && i < CHANNEL_MAX_STREAMS; i++) {
		unsigned k = strncmp(m, "video", 5) == 0 ? S_VIDEO : S_AUDIO;
		struct channel_stream *st = &ch->streams[i];

		m += 5;
		while (*m == ' ')
			m++;
		if (!e->stream[k][0])
			return fail(p,
				    "tvspace-media names %s: %s is "
				    "missing",
				    k == S_VIDEO ? "video" : "audio", keys[k]);
		st->media = k == S_VIDEO ? CHANNEL_VIDEO : CHANNEL_AUDIO;
		if (parse_stream(p, keys[k], e->stream[k], st, &t[i]) < 0)
			return -EBADMSG;
		st->fmtp = e->fmtp[k][0] ? e->fmtp[k] : NULL;
		if (k == S_VIDEO && !su_casematch(st->encoding, "VP8") &&
		    !su_casematch(st->encoding, "H264") && !plain_stream(st))
			return fail(p,
				    "video streams are VP8 or H264 (a member "
				    "starts at their keyframes)");
		if (k == S_VIDEO && st->clock != 90000)
			return fail(p, "a video stream's clock is 90000");
		if (su_strmatch(st->group, ch->group) && st->port == ch->port &&
		    su_strmatch(st->source, ch->source)) {
			url = true;
			ch->pt = st->pt;
		}
		ch->n_streams++;
	}
	if (!url)
		return fail(p, "the URL is not one of the channel's streams");
	if (e->has_pt)
		return fail(p, "tvspace-pt is for a channel of one stream; "
			       "its streams name their payload types");
	if (e->generate[0])
		return fail(p, "the server plays no channel of several "
			       "streams (tvspace-generate)");
	if (ch->n_streams == 1 && plain_stream(&ch->streams[0])) {
		/* Written as a stream, served as ever. */
		ch->media = ch->streams[0].media;
		ch->pt = ch->streams[0].pt;
		ch->n_streams = 0;
		memset(ch->streams, 0, sizeof(ch->streams));
		return 0;
	}
	ch->media = CHANNEL_STREAMS;
	return 0;
}

static void derive_id(const char *name, char *id, size_t size)
{
	size_t n = 0;
	int dash = 0;

	for (const char *s = name; *s && n + 1 < size; s++) {
		if (isalnum((unsigned char)*s)) {
			id[n++] = (char)tolower((unsigned char)*s);
			dash = 0;
		}
		else if (!dash && n) {
			id[n++] = '-';
			dash = 1;
		}
	}
	while (n && id[n - 1] == '-')
		n--;
	id[n] = '\0';
}

static int add_entry(struct lp *p, struct entry *e, const char *url,
		     unsigned position)
{
	struct channel ch = {0};
	char group[64], source[64], gen[FIELD + 512];
	struct stream_text st[CHANNEL_MAX_STREAMS];
	int rc;

	rc = parse_url(p, url, group, source, &ch.port);
	if (rc < 0)
		return rc;
	if (!e->id[0])
		derive_id(e->name[0] ? e->name : e->title, e->id,
			  sizeof(e->id));
	if (!e->id[0])
		return fail(p, "the channel has no tvg-id and no name");
	ch.id = e->id;
	ch.name = e->name[0] ? e->name : (e->title[0] ? e->title : e->id);
	ch.number = e->number ? e->number : position;
	ch.group = group;
	ch.source = source[0] ? source : NULL;
	ch.ttl = e->ttl ? e->ttl : 16;
	if (strchr(e->media, ' ') || e->stream[S_VIDEO][0] ||
	    e->stream[S_AUDIO][0]) {
		unsigned url_line = p->line;

		/* What is wrong is on the #EXTINF line. */
		p->line = e->line;
		rc = add_streams(p, e, &ch, st);
		p->line = url_line;
		if (rc < 0)
			return rc;
		if (ch.media == CHANNEL_STREAMS)
			goto add;
		/* one plain stream: as tvspace-media and tvspace-pt say */
		strcpy(e->media, ch.media == CHANNEL_AUDIO ? "audio" : "video");
		e->pt = ch.pt;
		e->has_pt = 1;
	}
	if (e->fmtp[S_VIDEO][0] || e->fmtp[S_AUDIO][0]) {
		p->line = e->line;
		return fail(p, "a=fmtp is for a channel's streams "
			       "(tvspace-video, tvspace-audio)");
	}
	ch.media =
	    strcmp(e->media, "audio") == 0 ? CHANNEL_AUDIO : CHANNEL_VIDEO;
	ch.pt = e->has_pt ? e->pt : (ch.media == CHANNEL_AUDIO ? 0 : 33);
	if (ch.media == CHANNEL_AUDIO && ch.pt != 0 && ch.pt != 8)
		return fail(p, "audio channels are PCMU (0) or PCMA (8)");
	if (ch.media == CHANNEL_VIDEO && ch.pt != 33)
		return fail(p, "video channels are MP2T (33)");
	if (e->generate[0]) {
		/* a transport stream file next to the lineup */
		if (strncmp(e->generate, "ts:", 3) == 0 &&
		    e->generate[3] != '/' && p->base)
			snprintf(gen, sizeof(gen), "ts:%s/%s", p->base,
				 e->generate + 3);
		else
			snprintf(gen, sizeof(gen), "%s", e->generate);
		if (strncmp(gen, "ts:", 3) != 0 &&
		    strncmp(gen, "tone:", 5) != 0)
			return fail(p, "tvspace-generate is tone:HZ or "
				       "ts:FILE");
		ch.generate = gen;
	}
add:
	rc = catalog_add_channel(p->cat, &ch);
	if (rc == -EEXIST)
		return fail(p, "channel id '%s' or number %u is used twice",
			    ch.id, ch.number);
	if (rc < 0)
		return fail(p, "cannot add channel '%s'", ch.id);
	return 0;
}

static int parse(struct lp *p, const char *text, size_t len)
{
	const char *s = text, *end = text + len;
	struct entry e;
	const char *why;
	int have = 0, rc;
	unsigned position = 0;

	/* a UTF-8 byte order mark */
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	p->line = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		char line[1024];
		size_t n;

		p->line++;
		while (le > s &&
		       (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		n = (size_t)(le - s);
		if (n >= sizeof(line))
			return fail(p, "the line is too long");
		memcpy(line, s, n);
		line[n] = '\0';
		s = nl ? nl + 1 : end;
		if (memchr(line, '\0', n))
			return fail(p, "NUL byte in the line");
		if (!n)
			continue;
		/* comments are not read: only what becomes a channel */
		if ((line[0] != '#' || strncmp(line, "#EXTINF:", 8) == 0) &&
		    (why = bad_text(line, n)))
			return fail(p, "%s", why);
		if (strncmp(line, "#EXTINF:", 8) == 0) {
			if (have)
				return fail(p,
					    "#EXTINF without a URL after "
					    "the one on line %u",
					    e.line);
			rc = parse_extinf(p, line + 8, &e);
			if (rc < 0)
				return rc;
			have = 1;
			continue;
		}
		if (line[0] == '#')
			continue; /* #EXTM3U, #EXTVLCOPT, comments */
		if (!have)
			return fail(p, "a URL without #EXTINF before it");
		position++;
		rc = add_entry(p, &e, line, position);
		if (rc < 0)
			return rc;
		have = 0;
	}
	if (have) {
		p->line = e.line;
		return fail(p, "#EXTINF without a URL");
	}
	return 0;
}

/* @a err is written through p.err, an initializer that the check does
 * not follow.  NOLINTNEXTLINE(readability-non-const-parameter) */
int lineup_parse(struct catalog *cat, const char *text, size_t len, char *err,
		 size_t errlen)
{
	struct lp p = {.cat = cat, .err = err, .errlen = errlen};

	return parse(&p, text, len);
}

int lineup_load(struct catalog *cat, const char *path, char *err, size_t errlen)
{
	struct lp p = {.cat = cat, .err = err, .errlen = errlen};
	char base[512];
	const char *slash = strrchr(path, '/');
	char *text;
	size_t len;
	int rc = textfile_read(path, 4 << 20, &text, &len, err, errlen);

	if (rc < 0)
		return rc;
	/* ts: files are named relative to the lineup's folder. */
	if (slash && (size_t)(slash - path) < sizeof(base)) {
		snprintf(base, sizeof(base), "%.*s", (int)(slash - path), path);
		p.base = base;
	}
	else {
		p.base = ".";
	}
	rc = parse(&p, text, len);
	free(text);
	return rc;
}
