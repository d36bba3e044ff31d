/* XMLTV guides:
 *
 *   <tv>
 *     <programme start="20261124200000 +0100" stop="20261124203000 +0100"
 *                channel="news">
 *       <title lang="en">Evening News</title>
 *     </programme>
 *   </tv>
 *
 * Times are "YYYYMMDDhhmmss" with an optional "+hhmm"/"-hhmm" offset (no
 * offset: UTC).  Programmes without a parsable start or title are skipped;
 * a document that is not XMLTV is an error. */
#include "server/guide.h"
#include "server/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

struct guide {
	su_home_t home[1];       /* first member: owns the programmes */
	struct programme *items; /* the file's order */
	unsigned n, cap;
	/* The same, by channel then start: what a lookup searches. */
	unsigned *by_time;
	unsigned n_sorted;
};

struct guide *guide_create(su_home_t *parent)
{
	return su_home_clone(parent, sizeof(struct guide));
}

struct guide *guide_destroy(struct guide *g)
{
	if (g)
		su_home_unref(g->home);
	return NULL;
}

static int digits(const char *s, unsigned n, int *ret)
{
	int v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* "20261124200000 +0100" -> unix seconds; -1 when it does not parse. */
static int64_t xmltv_time(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 1;
	time_t t;

	if (!s || strlen(s) < 12 || digits(s, 4, &y) || digits(s + 4, 2, &mo) ||
	    digits(s + 6, 2, &d) || digits(s + 8, 2, &h) ||
	    digits(s + 10, 2, &mi))
		return -1;
	s += 12;
	if (s[0] >= '0' && s[0] <= '9') {
		if (digits(s, 2, &sec))
			return -1;
		s += 2;
	}
	while (*s == ' ')
		s++;
	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (digits(s + 1, 2, &oh) || digits(s + 3, 2, &om))
			return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 14 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	return (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
}

static int add(struct guide *g, const char *channel, int64_t start,
	       int64_t stop, const char *title)
{
	struct programme *p;

	if (g->n == g->cap) {
		unsigned cap = g->cap ? g->cap * 2 : 64;

		p = su_realloc(g->home, g->items,
			       (isize_t)(sizeof(*p) * (size_t)cap));
		if (!p)
			return -ENOMEM;
		g->items = p;
		g->cap = cap;
	}
	p = &g->items[g->n];
	p->channel = su_strdup(g->home, channel);
	p->title = su_strdup(g->home, title);
	p->start = start;
	p->stop = stop;
	if (!p->channel || !p->title)
		return -ENOMEM;
	g->n++;
	return 0;
}

static int index_guide(struct guide *g);

int guide_parse(struct guide *g, const char *text, size_t len, char *err,
		size_t errlen)
{
	/* No network, no entity expansion, no DTD loaded (neither
	 * XML_PARSE_NOENT nor XML_PARSE_DTDLOAD), and libxml2's limits on
	 * depth (256) and text size (XML_PARSE_HUGE off): the file is
	 * untrusted. */
	xmlDocPtr doc;
	xmlNodePtr root;
	int rc = 0;

	if (len > INT32_MAX) {
		snprintf(err, errlen, "the guide is too large");
		return -EBADMSG;
	}
	doc = xmlReadMemory(text, (int)len, "guide.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();

		snprintf(err, errlen, "not well-formed XML (line %d: %s)",
			 e ? e->line : 0, e && e->message ? e->message : "?");
		/* libxml2's message ends with a newline */
		err[strcspn(err, "\n")] = '\0';
		return -EBADMSG;
	}
	/* libxml2 does not expand entities while parsing (no
	 * XML_PARSE_NOENT) and refuses "billion laughs", but
	 * xmlNodeGetContent() below would: 2,000 references to a 20 KB
	 * entity make a 26 KB file a 40 MB title.  XMLTV declares none. */
	if (doc->intSubset &&
	    (doc->intSubset->entities || doc->intSubset->pentities)) {
		snprintf(err, errlen, "the guide declares entities");
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !xmlStrEqual(root->name, (const xmlChar *)"tv")) {
		snprintf(err, errlen, "not an XMLTV guide (no <tv> root)");
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	for (xmlNodePtr n = root->children; n && !rc; n = n->next) {
		xmlChar *ch, *st, *sp;
		xmlChar *title = NULL;
		int64_t start, stop;

		if (n->type != XML_ELEMENT_NODE ||
		    !xmlStrEqual(n->name, (const xmlChar *)"programme"))
			continue;
		ch = xmlGetProp(n, (const xmlChar *)"channel");
		st = xmlGetProp(n, (const xmlChar *)"start");
		sp = xmlGetProp(n, (const xmlChar *)"stop");
		for (xmlNodePtr c = n->children; c && !title; c = c->next)
			if (c->type == XML_ELEMENT_NODE &&
			    xmlStrEqual(c->name, (const xmlChar *)"title"))
				title = xmlNodeGetContent(c);
		start = xmltv_time((const char *)st);
		stop = sp ? xmltv_time((const char *)sp) : -1;
		if (ch && title && start >= 0)
			rc = add(g, (const char *)ch, start,
				 stop > start ? stop : 0, (const char *)title);
		xmlFree(ch);
		xmlFree(st);
		xmlFree(sp);
		xmlFree(title);
	}
	xmlFreeDoc(doc);
	if (rc >= 0)
		rc = index_guide(g);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	return rc;
}

static int by_channel_start(const void *a, const void *b, void *arg)
{
	const struct guide *g = arg;
	const struct programme *x = &g->items[*(const unsigned *)a];
	const struct programme *y = &g->items[*(const unsigned *)b];
	int c = strcmp(x->channel, y->channel);

	if (c)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The index lookups search: built once, after the file is read. */
static int index_guide(struct guide *g)
{
	unsigned *ix = su_realloc(g->home, g->by_time,
				  (isize_t)((g->n + 1) * sizeof(*ix)));

	if (!ix)
		return -ENOMEM;
	for (unsigned i = 0; i < g->n; i++)
		ix[i] = i;
	qsort_r(ix, g->n, sizeof(*ix), by_channel_start, g);
	g->by_time = ix;
	g->n_sorted = g->n;
	return 0;
}

int guide_load(struct guide *g, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc = textfile_read(path, 16 << 20, &text, &len, err, errlen);

	if (rc < 0)
		return rc;
	rc = guide_parse(g, text, len, err, errlen);
	free(text);
	return rc;
}

/* The index of the last programme of @a channel starting at or before
 * @a now (in g->by_time), or -1; *ret_next the first one after it, which
 * may be another channel's or the end. */
static long last_started(const struct guide *g, const char *channel,
			 int64_t now, unsigned *ret_next)
{
	unsigned lo = 0, hi = g->n_sorted;

	/* The first entry after (channel, now). */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct programme *p = &g->items[g->by_time[mid]];
		int c = strcmp(p->channel, channel);

		if (c < 0 || (c == 0 && p->start <= now))
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_next = lo;
	if (!lo || strcmp(g->items[g->by_time[lo - 1]].channel, channel) != 0)
		return -1;
	return (long)lo - 1;
}

const struct programme *guide_now(const struct guide *g, const char *channel,
				  int64_t now)
{
	const struct programme *p;
	unsigned next;
	long i;

	if (!g || !channel || !g->n_sorted)
		return NULL;
	/* Without a stop time a programme runs until the next one starts:
	 * the latest start at or before now wins. */
	i = last_started(g, channel, now, &next);
	if (i < 0)
		return NULL;
	p = &g->items[g->by_time[i]];
	return p->stop && p->stop <= now ? NULL : p;
}

int64_t guide_next_change(const struct guide *g, const char *channel,
			  int64_t now)
{
	const struct programme *p, *n = NULL;
	unsigned next;
	long i;
	int64_t at = 0;

	if (!g || !channel || !g->n_sorted)
		return 0;
	i = last_started(g, channel, now, &next);
	if (next < g->n_sorted &&
	    !strcmp(g->items[g->by_time[next]].channel, channel))
		n = &g->items[g->by_time[next]];
	if (i >= 0) {
		p = &g->items[g->by_time[i]];
		if (p->stop > now)
			at = p->stop;
	}
	if (n && (!at || n->start < at))
		at = n->start;
	return at;
}

unsigned guide_count(const struct guide *g)
{
	return g ? g->n : 0;
}

const struct programme *guide_at(const struct guide *g, unsigned i)
{
	return g && i < g->n ? &g->items[i] : NULL;
}
