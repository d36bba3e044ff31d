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
 * and whether the server plays it itself.  The text is untrusted: never
 * read past its end, and say which line is wrong. */
#include "server/lineup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/catalog.h"
#include "server/textfile.h"

#define FIELD 256

struct entry {
	unsigned line; /* of the #EXTINF */
	char id[FIELD], name[FIELD], title[FIELD];
	char media[16], generate[FIELD];
	unsigned number, pt, ttl;
	int has_pt;
};

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
			if (strcmp(val, "video") && strcmp(val, "audio"))
				return fail(p, "tvspace-media must be video "
					       "or audio");
			strcpy(e->media, val);
		}
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

/* rtp://[SOURCE]@GROUP:PORT, udp://@GROUP:PORT, rtp://GROUP:PORT */
static int parse_url(struct lp *p, const char *url, char *group, char *source,
		     unsigned *port)
{
	const char *s, *at, *colon;
	char host[64];
	size_t n;

	if (strncmp(url, "rtp://", 6) == 0 || strncmp(url, "udp://", 6) == 0)
		s = url + 6;
	else
		return fail(p, "the stream URL must be rtp:// or udp://");
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
	ch.media =
	    strcmp(e->media, "audio") == 0 ? CHANNEL_AUDIO : CHANNEL_VIDEO;
	ch.pt = e->has_pt ? e->pt : (ch.media == CHANNEL_AUDIO ? 0 : 33);
	if (ch.media == CHANNEL_AUDIO && ch.pt != 0 && ch.pt != 8)
		return fail(p, "audio channels are PCMU (0) or PCMA (8)");
	if (ch.media == CHANNEL_VIDEO && ch.pt != 33)
		return fail(p, "video channels are MP2T (33)");
	ch.group = group;
	ch.source = source[0] ? source : NULL;
	ch.ttl = e->ttl ? e->ttl : 16;
	if (e->generate[0]) {
		/* a transport stream file next to the lineup */
		if (strncmp(e->generate, "ts:", 3) == 0 &&
		    e->generate[3] != '/' && p->base)
			snprintf(gen, sizeof(gen), "ts:%s/%s", p->base,
				 e->generate + 3);
		else
			snprintf(gen, sizeof(gen), "%s", e->generate);
		if (strncmp(gen, "ts:", 3) && strncmp(gen, "tone:", 5))
			return fail(p, "tvspace-generate is tone:HZ or "
				       "ts:FILE");
		ch.generate = gen;
	}
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
