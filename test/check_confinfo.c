/* Conference state documents: valid against RFC 4575's schema and the
 * room panel's own, true to the space; and a room's partial documents,
 * applied to a subscriber's copy as RFC 4575 §4.6 says, give the space's
 * state after every change. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "server/catalog.h"
#include "server/space.h"
#include "sip/confinfo.h"

#include "check_run.h"

#define DOMAIN "tvspace.test"

static su_home_t home[1];
static struct catalog *cat;
static struct space_mgr *mgr;
static struct space *sp;
static const struct space_offer offer = {
    .media = "video",
    .port = 5004,
    .addr = "232.10.0.1",
    .multicast = true,
    .pts = {33},
    .n_pts = 1,
};

static void setup(void)
{
	struct channel news = {
	    .id = "news",
	    .number = 1,
	    .name = "Demo News & <More>",
	    .media = CHANNEL_VIDEO,
	    .pt = 33,
	    .group = "232.10.0.1",
	    .port = 5004,
	    .ttl = 16,
	};
	struct channel sports = {
	    .id = "sports",
	    .number = 2,
	    .name = "Demo Sports",
	    .media = CHANNEL_VIDEO,
	    .pt = 33,
	    .group = "232.10.0.2",
	    .port = 5004,
	    .ttl = 16,
	};
	struct space_service svc = {
	    .id = "svc-alice",
	    .user = "alice",
	    .level = 2,
	    .default_channel = "news",
	};
	struct level lv = {
	    .level = 2, .name = "plus", .capacity = 4, .daily_limit = 7200};
	struct level big = {.level = 3, .name = "big", .capacity = 100};
	struct space_plan plan;
	struct space_member *m, *a;

	su_home_init(home);
	cat = catalog_create(home);
	ck_assert_int_eq(catalog_add_channel(cat, &news), 0);
	ck_assert_int_eq(catalog_add_channel(cat, &sports), 0);
	ck_assert_int_eq(catalog_add_level(cat, &lv), 0);
	ck_assert_int_eq(catalog_add_level(cat, &big), 0);
	mgr = space_mgr_create(home, cat);
	ck_assert_int_eq(
	    space_plan_start(mgr, "alice", &svc, 0, &offer, 1000, &plan),
	    SPACE_OK);
	ck_assert_int_eq(space_open(mgr, 12, "alice", &svc, 0, &plan, &offer,
				    NULL, 1000, 1700000000, &sp),
			 0);
	ck_assert_int_eq(
	    space_join(sp, "bob", NULL, false, &offer, NULL, 2000, &m),
	    SPACE_OK);
	ck_assert_int_eq(space_admit(sp, m->request, 3000, &a), SPACE_OK);
	ck_assert_int_eq(
	    space_join(sp, "carol", NULL, false, &offer, NULL, 4000, &m),
	    SPACE_OK);
}

static void teardown(void)
{
	space_mgr_destroy(mgr);
	catalog_destroy(cat);
	su_home_deinit(home);
}

static const char *path(const char *rel)
{
	static char buf[4][512];
	static int i;
	const char *src = getenv("TVSPACE_SOURCE_DIR");

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", src ? src : ".", rel);
	return buf[i];
}

static int validate(xmlDocPtr doc, const char *xsd)
{
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd);
	xmlSchemaPtr schema = pc ? xmlSchemaParse(pc) : NULL;
	xmlSchemaValidCtxtPtr vc =
	    schema ? xmlSchemaNewValidCtxt(schema) : NULL;
	int rc = vc ? xmlSchemaValidateDoc(vc, doc) : -1;

	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	return rc;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(n->name, (const xmlChar *)name))
			return n;
	return NULL;
}

/* Parse @a text; valid against RFC 4575, and its panel (if any) against
 * the project's schema. */
static xmlDocPtr parse_valid(const char *text)
{
	xmlDocPtr doc, sub;
	xmlNodePtr s;

	ck_assert_ptr_nonnull(text);
	doc =
	    xmlReadMemory(text, (int)strlen(text), NULL, NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	ck_assert_msg(
	    validate(doc, path("test/data/xsd/conference-info.xsd")) == 0,
	    "not RFC 4575: %s", text);
	s = child(child(xmlDocGetRootElement(doc), "conference-description"),
		  "space");
	if (s) {
		ck_assert_str_eq((const char *)s->ns->href, CONFINFO_TV_NS);
		sub = xmlNewDoc((const xmlChar *)"1.0");
		xmlDocSetRootElement(sub, xmlDocCopyNode(s, sub, 1));
		ck_assert_int_eq(validate(sub, path("docs/tvspace-space.xsd")),
				 0);
		xmlFreeDoc(sub);
	}
	return doc;
}

static char *xpath_str(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr r;
	char *out;

	xmlXPathRegisterNs(ctx, (const xmlChar *)"ci",
			   (const xmlChar *)CONFINFO_NS);
	xmlXPathRegisterNs(ctx, (const xmlChar *)"tv",
			   (const xmlChar *)CONFINFO_TV_NS);
	r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	out = (char *)xmlXPathCastToString(r);
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(ctx);
	return out;
}

static void expect(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xpath_str(doc, expr);

	ck_assert_msg(strcmp(got, want) == 0, "%s: want '%s', got '%s'", expr,
		      want, got);
	xmlFree(got);
}

/* -- a subscriber's copy (RFC 4575 §4.6) ---------------------------------- */

#define COPY_MAX 128

struct copy_user {
	char entity[128];
	char display[64];
	char role[16];
	char status[16];
	char method[16];
};

/* What a subscriber knows, built from the documents it got. */
struct copy {
	unsigned version;
	char channel[32];
	char played[16];
	unsigned count;
	unsigned capacity;
	struct copy_user users[COPY_MAX];
	unsigned n;
};

static void text_of(xmlNodePtr n, char *buf, size_t len)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	snprintf(buf, len, "%s", t ? (const char *)t : "");
	xmlFree(t);
}

static struct copy_user *copy_find(struct copy *cp, const char *entity,
				   bool add)
{
	for (unsigned i = 0; i < cp->n; i++)
		if (strcmp(cp->users[i].entity, entity) == 0)
			return &cp->users[i];
	if (!add)
		return NULL;
	ck_assert_uint_lt(cp->n, COPY_MAX);
	memset(&cp->users[cp->n], 0, sizeof(cp->users[0]));
	snprintf(cp->users[cp->n].entity, sizeof(cp->users[0].entity), "%s",
		 entity);
	return &cp->users[cp->n++];
}

static void copy_endpoint(struct copy_user *u, xmlNodePtr ep, bool whole)
{
	if (whole)
		u->status[0] = u->method[0] = '\0';
	if (child(ep, "status"))
		text_of(child(ep, "status"), u->status, sizeof(u->status));
	if (child(ep, "disconnection-method"))
		text_of(child(ep, "disconnection-method"), u->method,
			sizeof(u->method));
}

/* Apply document @a text to @a cp: a full one replaces it; a partial one
 * must be the next version, and changes what it carries: a user entry by
 * its state (full replaces the user, partial the elements it has, deleted
 * removes it), an element without a state attribute replaces the one the
 * copy had. */
static void apply(struct copy *cp, const char *text)
{
	xmlDocPtr doc = parse_valid(text);
	xmlNodePtr root = xmlDocGetRootElement(doc), n;
	xmlChar *state = xmlGetProp(root, (const xmlChar *)"state");
	xmlChar *version = xmlGetProp(root, (const xmlChar *)"version");
	bool partial = xmlStrEqual(state, (const xmlChar *)"partial");

	ck_assert_ptr_nonnull(version);
	if (partial)
		ck_assert_uint_eq((unsigned)atoi((const char *)version),
				  cp->version + 1);
	else
		memset(cp, 0, sizeof(*cp));
	cp->version = (unsigned)atoi((const char *)version);
	if ((n = child(root, "conference-description"))) {
		xmlNodePtr s = child(n, "space");
		xmlNodePtr c = child(s, "channel");
		xmlChar *id = c ? xmlGetProp(c, (const xmlChar *)"id") : NULL;
		xmlChar *pl = xmlGetProp(child(s, "service"),
					 (const xmlChar *)"played-today");
		char max[16];

		snprintf(cp->channel, sizeof(cp->channel), "%s",
			 id ? (const char *)id : "");
		snprintf(cp->played, sizeof(cp->played), "%s",
			 pl ? (const char *)pl : "");
		text_of(child(n, "maximum-user-count"), max, sizeof(max));
		cp->capacity = (unsigned)atoi(max);
		xmlFree(id);
		xmlFree(pl);
	}
	if ((n = child(root, "conference-state"))) {
		char buf[16];

		text_of(child(n, "user-count"), buf, sizeof(buf));
		cp->count = (unsigned)atoi(buf);
	}
	for (n = child(child(root, "users"), "user"); n; n = n->next) {
		xmlChar *e = xmlGetProp(n, (const xmlChar *)"entity");
		xmlChar *st = xmlGetProp(n, (const xmlChar *)"state");
		bool whole = !st || xmlStrEqual(st, (const xmlChar *)"full");
		struct copy_user *u;

		if (n->type != XML_ELEMENT_NODE) {
			xmlFree(e);
			xmlFree(st);
			continue;
		}
		ck_assert_msg(partial || whole, "a full document's user: %s",
			      (const char *)st);
		if (xmlStrEqual(st, (const xmlChar *)"deleted")) {
			u = copy_find(cp, (const char *)e, false);
			if (u)
				*u = cp->users[--cp->n];
		}
		else {
			u = copy_find(cp, (const char *)e, whole);
			ck_assert_msg(u, "partial entry for unknown %s",
				      (const char *)e);
			if (whole)
				u->display[0] = u->role[0] = '\0';
			if (child(n, "display-text"))
				text_of(child(n, "display-text"), u->display,
					sizeof(u->display));
			if (child(n, "roles"))
				text_of(child(child(n, "roles"), "entry"),
					u->role, sizeof(u->role));
			if (child(n, "endpoint"))
				copy_endpoint(u, child(n, "endpoint"), whole);
		}
		xmlFree(e);
		xmlFree(st);
	}
	xmlFree(state);
	xmlFree(version);
	xmlFreeDoc(doc);
}

/* The copy says what the space is: every member with its role and
 * status (those listed disconnected aside), the channel, user-count. */
static void copy_is_space(const struct copy *cp)
{
	unsigned listed = 0, admitted = 0;

	for (unsigned i = 0; i < cp->n; i++)
		listed += strcmp(cp->users[i].status, "disconnected") != 0;
	for (const struct space_member *m = space_members(sp); m; m = m->next) {
		char entity[128];
		const struct copy_user *u;

		snprintf(entity, sizeof(entity), "sip:%s@" DOMAIN, m->user);
		u = copy_find((struct copy *)cp, entity, false);
		ck_assert_msg(u, "%s is not in the copy", m->user);
		ck_assert_str_eq(u->role,
				 m->role == SPACE_HOST ? "host" : "guest");
		ck_assert_str_eq(u->status, m->role == SPACE_PENDING
						? "pending"
						: "connected");
		listed--;
		admitted += m->role != SPACE_PENDING;
	}
	ck_assert_uint_eq(listed, 0);
	ck_assert_uint_eq(cp->count, admitted);
	ck_assert_str_eq(cp->channel, space_channel(sp)->id);
}

/* A room and its one subscriber. */
struct watch {
	struct confinfo_room *room;
	struct copy copy;
	unsigned version;
	int64_t now;
};

static void describe(struct confinfo_desc *d)
{
	struct confinfo_panel panel = {.played_today = 60};

	confinfo_describe(sp, &panel, d);
}

static void watch_start(struct watch *w)
{
	struct confinfo_desc desc;
	char *doc;

	memset(w, 0, sizeof(*w));
	w->now = 1700000100;
	w->room = confinfo_room_create(home);
	ck_assert_ptr_nonnull(w->room);
	ck_assert_uint_eq(confinfo_room_look(w->room, sp, w->now), 0);
	describe(&desc);
	confinfo_room_told(w->room, &desc);
	doc = confinfo_room_full(home, w->room, &desc, DOMAIN, ++w->version);
	apply(&w->copy, doc);
	copy_is_space(&w->copy);
}

/* The room looks, and its subscriber gets the update (NULL if none). */
static char *watch_update(struct watch *w, bool *ret_full)
{
	struct confinfo_desc desc;
	bool full = false;
	char *doc;

	confinfo_room_look(w->room, sp, ++w->now);
	describe(&desc);
	doc = confinfo_room_update(home, w->room, &desc, DOMAIN, w->version + 1,
				   &full);
	if (doc) {
		w->version++;
		confinfo_room_told(w->room, &desc);
		apply(&w->copy, doc);
		copy_is_space(&w->copy);
	}
	if (ret_full)
		*ret_full = full;
	return doc;
}

static xmlDocPtr read_doc(const char *text)
{
	return parse_valid(text);
}

static struct space_member *member(const char *user)
{
	return space_member_by_user(sp, user);
}

/* -- documents ------------------------------------------------------------ */

START_TEST(full_document_uses_rfc4575_elements)
{
	struct confinfo_panel panel = {
	    .program_title = "Evening News",
	    .program_start = 1700000000,
	    .program_stop = 1700001800,
	    .played_today = 300,
	};
	char *text = confinfo_document(home, sp, DOMAIN, 3, &panel);
	xmlDocPtr doc = read_doc(text);

	expect(doc, "string(/ci:conference-info/@entity)",
	       "sip:space-12@" DOMAIN);
	expect(doc, "string(/ci:conference-info/@version)", "3");
	expect(doc, "string(/ci:conference-info/@state)", "full");
	/* RFC 4575's own elements for what it has elements for */
	expect(doc, "string(//ci:conference-description/ci:display-text)",
	       "Demo News & <More>");
	expect(doc, "string(//ci:conference-description/ci:subject)",
	       "Evening News");
	expect(doc, "string(//ci:conf-uris/ci:entry/ci:uri)",
	       "sip:space-12@" DOMAIN);
	expect(doc, "string(//ci:conf-uris/ci:entry/ci:purpose)",
	       "participation");
	expect(doc, "string(//ci:maximum-user-count)", "4");
	expect(doc, "string(//ci:available-media/ci:entry/ci:type)", "video");
	expect(doc, "string(//ci:available-media/ci:entry/ci:status)",
	       "recvonly");
	expect(doc, "string(//ci:user-count)", "2");
	expect(doc, "string(//ci:active)", "true");
	/* the users */
	expect(doc, "count(//ci:user)", "3");
	expect(doc, "string(/ci:conference-info/ci:users/@state)", "");
	expect(doc, "string(//ci:user[1]/@entity)", "sip:alice@" DOMAIN);
	expect(doc, "string(//ci:user[1]/@state)", "full");
	expect(doc, "string(//ci:user[1]/ci:roles/ci:entry)", "host");
	expect(doc, "string(//ci:user[2]/ci:roles/ci:entry)", "guest");
	/* no display name: no display-text (the entity says who) */
	expect(doc, "count(//ci:user[3]/ci:display-text)", "0");
	expect(doc, "string(//ci:user[3]/ci:endpoint/ci:status)", "pending");
	expect(doc, "string(//ci:user[2]/ci:endpoint/ci:status)", "connected");
	expect(doc, "string(//ci:user[2]/ci:endpoint/@entity)",
	       "sip:bob@" DOMAIN);
	/* the panel: the rest */
	expect(doc, "string(//tv:space/@id)", "12");
	expect(doc, "string(//tv:space/@open)", "false");
	expect(doc, "string(//tv:space/@started)", "2023-11-14T22:13:20Z");
	expect(doc, "string(//tv:channel/@id)", "news");
	expect(doc, "string(//tv:channel/@number)", "1");
	expect(doc, "string(//tv:channel/@name)", "Demo News & <More>");
	expect(doc, "string(//tv:program/@title)", "Evening News");
	expect(doc, "string(//tv:program/@start)", "2023-11-14T22:13:20Z");
	expect(doc, "string(//tv:program/@stop)", "2023-11-14T22:43:20Z");
	expect(doc, "string(//tv:service/@id)", "svc-alice");
	expect(doc, "string(//tv:service/@level)", "2");
	expect(doc, "string(//tv:service/@daily-limit)", "7200");
	expect(doc, "string(//tv:service/@played-today)", "300");
	/* no copies of what RFC 4575 says */
	expect(doc, "count(//tv:service/@capacity)", "0");
	expect(doc, "count(//tv:service/@members)", "0");
	/* no whitespace between elements: bytes in every NOTIFY */
	ck_assert_ptr_null(strstr(text, ">\n<conference-description"));
	ck_assert_ptr_null(strstr(text, "\n  "));
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(partial_document_has_only_what_changed)
{
	struct confinfo_user users[] = {
	    {.user = "dave", .entry = CONFINFO_ENTRY_FULL, .pending = true},
	    {.user = "carol",
	     .entry = CONFINFO_ENTRY_PARTIAL,
	     .changed = CONFINFO_STATUS},
	    {.user = "bob",
	     .entry = CONFINFO_ENTRY_PARTIAL,
	     .changed = CONFINFO_STATUS,
	     .gone = true,
	     .how = CONFINFO_BOOTED,
	     .when = 1700000000},
	    {.user = "alice",
	     .display = "Alice",
	     .entry = CONFINFO_ENTRY_PARTIAL,
	     .changed = CONFINFO_ROLE | CONFINFO_NAME},
	    {.user = "erin", .entry = CONFINFO_ENTRY_DELETED},
	};
	struct confinfo_doc d = {
	    .id = 12,
	    .domain = DOMAIN,
	    .version = 7,
	    .partial = true,
	    .with_count = true,
	    .user_count = 2,
	    .users = users,
	    .n_users = 5,
	};
	char *text = confinfo_build(home, &d);
	xmlDocPtr doc = read_doc(text);

	expect(doc, "string(/ci:conference-info/@state)", "partial");
	expect(doc, "string(/ci:conference-info/@version)", "7");
	expect(doc, "count(//ci:conference-description)", "0");
	expect(doc, "string(//ci:user-count)", "2");
	expect(doc, "string(/ci:conference-info/ci:users/@state)", "partial");
	/* new: the whole user */
	expect(doc, "string(//ci:user[1]/@state)", "full");
	expect(doc, "count(//ci:user[1]/ci:display-text)", "0");
	expect(doc, "string(//ci:user[1]/ci:roles/ci:entry)", "guest");
	expect(doc, "string(//ci:user[1]/ci:endpoint/ci:status)", "pending");
	/* admitted: its endpoint's status, nothing else */
	expect(doc, "string(//ci:user[2]/@state)", "partial");
	expect(doc, "count(//ci:user[2]/ci:display-text)", "0");
	expect(doc, "count(//ci:user[2]/ci:roles)", "0");
	expect(doc, "string(//ci:user[2]/ci:endpoint/@state)", "partial");
	expect(doc, "string(//ci:user[2]/ci:endpoint/ci:status)", "connected");
	/* removed: disconnected, booted, when */
	expect(doc, "string(//ci:user[3]/ci:endpoint/ci:status)",
	       "disconnected");
	expect(doc, "string(//ci:user[3]/ci:endpoint/ci:disconnection-method)",
	       "booted");
	expect(doc,
	       "string(//ci:user[3]/ci:endpoint/ci:disconnection-info/ci:when)",
	       "2023-11-14T22:13:20Z");
	/* the remote passed, and a name came: roles and display-text */
	expect(doc, "string(//ci:user[4]/ci:display-text)", "Alice");
	expect(doc, "string(//ci:user[4]/ci:roles/ci:entry)", "guest");
	expect(doc, "count(//ci:user[4]/ci:endpoint)", "0");
	/* gone from the state */
	expect(doc, "string(//ci:user[5]/@state)", "deleted");
	expect(doc, "count(//ci:user[5]/*)", "0");
	xmlFreeDoc(doc);

	/* nothing but the description: no users element at all */
	struct confinfo_desc desc;

	describe(&desc);
	d.users = NULL;
	d.n_users = 0;
	d.with_count = false;
	d.desc = &desc;
	doc = read_doc(confinfo_build(home, &d));
	expect(doc, "count(//ci:users)", "0");
	expect(doc, "count(//ci:conference-state)", "0");
	expect(doc, "string(//tv:channel/@id)", "news");
	xmlFreeDoc(doc);
	/* a full document needs its description */
	d.partial = false;
	d.desc = NULL;
	ck_assert_ptr_null(confinfo_build(home, &d));
}
END_TEST

START_TEST(deleted_document_is_valid)
{
	xmlDocPtr doc = read_doc(confinfo_deleted(home, 12, DOMAIN, 9));

	expect(doc, "string(/ci:conference-info/@state)", "deleted");
	expect(doc, "string(/ci:conference-info/@version)", "9");
	expect(doc, "count(//ci:user)", "0");
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(version_set_in_a_copy)
{
	char *text =
	    confinfo_document(home, sp, "version=\"1\".example", 0, NULL);
	char *v = confinfo_set_version(home, text, 4294967295u);
	xmlDocPtr doc;

	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(strlen(v), strlen(text) + 9);
	/* The XML declaration's version and the rest as they were. */
	ck_assert_int_eq(strncmp(v, "<?xml version=\"1.0\"", 19), 0);
	doc = read_doc(v);
	expect(doc, "string(/ci:conference-info/@version)", "4294967295");
	expect(doc, "count(//ci:user)", "3");
	xmlFreeDoc(doc);
	ck_assert_ptr_null(confinfo_set_version(home, "<x/>", 1));
	ck_assert_ptr_null(confinfo_set_version(home, NULL, 1));
	ck_assert_ptr_null(confinfo_set_version(
	    home, "<conference-info entity=\"a\">version=\"1\"", 1));
}
END_TEST

/* -- a room --------------------------------------------------------------- */

START_TEST(room_tells_changes_and_departures)
{
	struct watch w;
	struct space_member *m, *a;
	struct channel *old;
	xmlDocPtr doc;
	char *text;
	bool full;

	watch_start(&w);
	/* nothing happened: nothing to tell */
	ck_assert_ptr_null(watch_update(&w, NULL));

	/* carol admitted: her status and the count, nothing else */
	ck_assert_int_eq(space_admit(sp, member("carol")->request, 5000, &a),
			 SPACE_OK);
	text = watch_update(&w, &full);
	ck_assert(!full);
	doc = read_doc(text);
	expect(doc, "string(/ci:conference-info/@state)", "partial");
	expect(doc, "count(//ci:user)", "1");
	expect(doc, "string(//ci:user/@entity)", "sip:carol@" DOMAIN);
	expect(doc, "string(//ci:user/@state)", "partial");
	expect(doc, "string(//ci:user-count)", "3");
	expect(doc, "count(//ci:conference-description)", "0");
	xmlFreeDoc(doc);

	/* dave asks: the whole user; the count stays */
	ck_assert_int_eq(
	    space_join(sp, "dave", NULL, false, &offer, NULL, 6000, &m),
	    SPACE_OK);
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "string(//ci:user/@state)", "full");
	expect(doc, "string(//ci:user/ci:endpoint/ci:status)", "pending");
	expect(doc, "count(//ci:conference-state)", "0");
	xmlFreeDoc(doc);

	/* bob hangs up: disconnected, departed (nobody said otherwise) */
	ck_assert_int_eq(space_leave(member("bob"), false, 7000), SPACE_LEFT);
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "count(//ci:user)", "1");
	expect(doc, "string(//ci:user/@entity)", "sip:bob@" DOMAIN);
	expect(doc, "string(//ci:endpoint/ci:status)", "disconnected");
	expect(doc, "string(//ci:disconnection-method)", "departed");
	expect(doc, "string(//ci:user-count)", "2");
	xmlFreeDoc(doc);
	/* then only his deletion is left: it waits for the next change */
	ck_assert_ptr_null(watch_update(&w, NULL));

	/* alice hands the remote to carol; dave is refused by the host
	 * (booted) and bob's deletion goes with it */
	ck_assert_int_eq(space_handover(sp, "alice", "carol"), SPACE_OK);
	confinfo_room_left(w.room, "dave", CONFINFO_BOOTED);
	space_member_remove(member("dave"), 8000);
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "count(//ci:user)", "4");
	expect(doc, "string(//ci:user[@entity='sip:bob@" DOMAIN "']/@state)",
	       "deleted");
	expect(doc,
	       "string(//ci:user[@entity='sip:alice@" DOMAIN
	       "']/ci:roles/ci:entry)",
	       "guest");
	expect(doc,
	       "count(//ci:user[@entity='sip:alice@" DOMAIN "']/ci:endpoint)",
	       "0");
	expect(doc,
	       "string(//ci:user[@entity='sip:carol@" DOMAIN
	       "']/ci:roles/ci:entry)",
	       "host");
	expect(doc,
	       "string(//ci:user[@entity='sip:dave@" DOMAIN
	       "']//ci:disconnection-method)",
	       "booted");
	xmlFreeDoc(doc);

	/* erin asks and withdraws between two looks: nothing to say of
	 * her, ever */
	ck_assert_int_eq(
	    space_join(sp, "erin", NULL, false, &offer, NULL, 9000, &m),
	    SPACE_OK);
	ck_assert_uint_eq(confinfo_room_look(w.room, sp, w.now), 2);
	space_member_remove(m, 9100);
	ck_assert_int_eq(space_switch(sp, "carol", "sports", home, &old),
			 SPACE_OK);
	text = watch_update(&w, NULL);
	doc = read_doc(text);
	ck_assert_ptr_null(strstr(text, "erin"));
	expect(doc, "string(//tv:channel/@id)", "sports");
	expect(doc, "string(//ci:conference-description/ci:display-text)",
	       "Demo Sports");
	/* dave's deletion went with it */
	expect(doc, "count(//ci:user)", "1");
	expect(doc, "string(//ci:user/@state)", "deleted");
	xmlFreeDoc(doc);

	/* bob comes back, long after he was deleted: the whole user */
	ck_assert_int_eq(
	    space_join(sp, "bob", NULL, false, &offer, NULL, 10000, &m),
	    SPACE_OK);
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "string(//ci:user/@state)", "full");
	expect(doc, "string(//ci:user/ci:roles/ci:entry)", "guest");
	xmlFreeDoc(doc);
	confinfo_room_destroy(w.room);
}
END_TEST

START_TEST(room_gone_and_back_between_two_notifies)
{
	struct watch w;
	struct space_member *m;
	xmlDocPtr doc;

	watch_start(&w);
	/* bob leaves and is back before anyone was told */
	ck_assert_int_eq(space_leave(member("bob"), false, 5000), SPACE_LEFT);
	ck_assert_uint_eq(confinfo_room_look(w.room, sp, w.now), 1);
	ck_assert_int_eq(
	    space_join(sp, "bob", NULL, false, &offer, NULL, 5100, &m),
	    SPACE_OK);
	doc = read_doc(watch_update(&w, NULL));
	/* listed whole, pending again */
	expect(doc, "count(//ci:user)", "1");
	expect(doc, "string(//ci:user/@state)", "full");
	expect(doc, "string(//ci:user/ci:endpoint/ci:status)", "pending");
	xmlFreeDoc(doc);
	confinfo_room_destroy(w.room);
}
END_TEST

START_TEST(room_lost_host_failed)
{
	struct watch w;
	xmlDocPtr doc;

	watch_start(&w);
	ck_assert_int_eq(space_leave(space_host(sp), true, 5000),
			 SPACE_HOST_LOST);
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "string(//ci:user/@entity)", "sip:alice@" DOMAIN);
	expect(doc, "string(//ci:disconnection-method)", "failed");
	xmlFreeDoc(doc);
	confinfo_room_destroy(w.room);
}
END_TEST

START_TEST(room_names)
{
	struct watch w;
	const char *users[8];
	struct space_member *m;
	xmlDocPtr doc;

	w.room = confinfo_room_create(home);
	/* The first look: every member's name is to be asked, once. */
	confinfo_room_look(w.room, sp, 1700000100);
	ck_assert_uint_eq(confinfo_room_unnamed(w.room, users, 2), 2);
	ck_assert_str_eq(users[0], "alice");
	ck_assert_str_eq(users[1], "bob");
	ck_assert_uint_eq(confinfo_room_unnamed(w.room, users, 8), 1);
	ck_assert_str_eq(users[0], "carol");
	ck_assert_uint_eq(confinfo_room_unnamed(w.room, users, 8), 0);
	confinfo_room_destroy(w.room);

	watch_start(&w);
	/* a name for someone the subscriber knows: its display-text */
	confinfo_room_named(w.room, "bob", "Bob \"the builder\"");
	confinfo_room_named(w.room, "nobody", "Nobody");
	confinfo_room_named(w.room, "carol", "");
	confinfo_room_named(w.room, "carol", "Carol\x01");
	confinfo_room_named(w.room, "carol", "Car\xc3");
	confinfo_room_named(w.room, "carol", "\xef\xbf\xbe");
	confinfo_room_named(w.room, "carol", "\xc0\xaf");
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "count(//ci:user)", "1");
	expect(doc, "string(//ci:user/@state)", "partial");
	expect(doc, "string(//ci:user/ci:display-text)", "Bob \"the builder\"");
	expect(doc, "count(//ci:user/ci:roles)", "0");
	xmlFreeDoc(doc);
	/* too long a name is not shown; UTF-8 is */
	char lng[CONFINFO_NAME_MAX + 2];

	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	confinfo_room_named(w.room, "alice", lng);
	ck_assert_ptr_null(watch_update(&w, NULL));
	lng[CONFINFO_NAME_MAX] = '\0';
	confinfo_room_named(w.room, "alice", lng);
	confinfo_room_named(w.room, "carol", "Caf\xc3\xa9 \xf0\x9f\x93\xba");
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "count(//ci:user)", "2");
	expect(doc,
	       "string-length(//ci:user[@entity='sip:alice@" DOMAIN
	       "']/ci:display-text)",
	       "256");
	expect(doc,
	       "string(//ci:user[@entity='sip:carol@" DOMAIN
	       "']/ci:display-text)",
	       "Caf\xc3\xa9 \xf0\x9f\x93\xba");
	xmlFreeDoc(doc);
	/* the same name again: nothing */
	confinfo_room_named(w.room, "bob", "Bob \"the builder\"");
	ck_assert_ptr_null(watch_update(&w, NULL));
	/* a newcomer's name comes with it, whole */
	while (confinfo_room_unnamed(w.room, users, 8))
		;
	ck_assert_int_eq(
	    space_join(sp, "dave", NULL, false, &offer, NULL, 6000, &m),
	    SPACE_OK);
	confinfo_room_look(w.room, sp, w.now);
	ck_assert_uint_eq(confinfo_room_unnamed(w.room, users, 8), 1);
	confinfo_room_named(w.room, "dave", "Dave");
	doc = read_doc(watch_update(&w, NULL));
	expect(doc, "count(//ci:user)", "1");
	expect(doc, "string(//ci:user/@state)", "full");
	expect(doc, "string(//ci:user/ci:display-text)", "Dave");
	xmlFreeDoc(doc);
	/* and in the full document */
	struct confinfo_desc desc;

	describe(&desc);
	doc = read_doc(confinfo_room_full(home, w.room, &desc, DOMAIN, 1));
	expect(doc,
	       "string(//ci:user[@entity='sip:bob@" DOMAIN
	       "']/ci:display-text)",
	       "Bob \"the builder\"");
	expect(doc,
	       "string(//ci:user[@entity='sip:carol@" DOMAIN
	       "']/ci:display-text)",
	       "Caf\xc3\xa9 \xf0\x9f\x93\xba");
	xmlFreeDoc(doc);
	confinfo_room_destroy(w.room);
}
END_TEST

/* A big room: a burst of joins is a partial document of the joiners, up to
 * about half of the room, past which it is a full one. */
START_TEST(room_burst_partial_then_full)
{
	struct space_service svc = {
	    .id = "svc-big", .user = "host", .level = 3};
	struct space_plan plan;
	struct space *old = sp;
	struct space_member *m;
	struct watch w;
	char user[32];
	xmlDocPtr doc;
	bool full;

	ck_assert_int_eq(
	    space_plan_start(mgr, "host", &svc, 0, &offer, 1000, &plan),
	    SPACE_OK);
	ck_assert_int_eq(space_open(mgr, 13, "host", &svc, 0, &plan, &offer,
				    NULL, 1000, 1700000000, &sp),
			 0);
	space_set_open(sp, "host", true);
	for (int i = 1; i < 30; i++) {
		snprintf(user, sizeof(user), "g%d", i);
		ck_assert_int_eq(
		    space_join(sp, user, NULL, false, &offer, NULL, 2000, &m),
		    SPACE_OK);
	}
	watch_start(&w);
	ck_assert_uint_eq(w.copy.n, 30);
	ck_assert_uint_eq(w.copy.capacity, 100);
	for (int i = 30; i < 40; i++) {
		snprintf(user, sizeof(user), "g%d", i);
		ck_assert_int_eq(
		    space_join(sp, user, NULL, false, &offer, NULL, 3000, &m),
		    SPACE_OK);
	}
	doc = read_doc(watch_update(&w, &full));
	ck_assert(!full);
	expect(doc, "count(//ci:user)", "10");
	expect(doc, "string(//ci:user-count)", "40");
	xmlFreeDoc(doc);
	for (int i = 40; i < 90; i++) {
		snprintf(user, sizeof(user), "g%d", i);
		ck_assert_int_eq(
		    space_join(sp, user, NULL, false, &offer, NULL, 4000, &m),
		    SPACE_OK);
	}
	/* and ten leave */
	for (int i = 1; i <= 10; i++) {
		snprintf(user, sizeof(user), "g%d", i);
		ck_assert_int_eq(space_leave(member(user), false, 4100),
				 SPACE_LEFT);
	}
	doc = read_doc(watch_update(&w, &full));
	ck_assert(full);
	expect(doc, "string(/ci:conference-info/@state)", "full");
	/* those who left are listed disconnected, once */
	expect(doc, "count(//ci:user)", "90");
	expect(doc, "count(//ci:endpoint[ci:status='disconnected'])", "10");
	expect(doc, "string(//ci:user-count)", "80");
	xmlFreeDoc(doc);
	/* and deleted by the next */
	snprintf(user, sizeof(user), "g%d", 20);
	ck_assert_int_eq(space_leave(member(user), false, 5000), SPACE_LEFT);
	doc = read_doc(watch_update(&w, &full));
	ck_assert(!full);
	expect(doc, "count(//ci:user[@state='deleted'])", "10");
	expect(doc, "count(//ci:user)", "11");
	xmlFreeDoc(doc);
	confinfo_room_destroy(w.room);
	space_close(sp);
	sp = old;
}
END_TEST

START_TEST(room_forget_starts_again)
{
	struct watch w;
	struct confinfo_desc desc;
	xmlDocPtr doc;

	watch_start(&w);
	ck_assert_int_eq(space_leave(member("bob"), false, 5000), SPACE_LEFT);
	ck_assert_uint_eq(confinfo_room_look(w.room, sp, w.now), 1);
	confinfo_room_forget(w.room);
	ck_assert(!confinfo_room_synced(w.room));
	ck_assert_uint_eq(confinfo_room_pending(w.room), 0);
	ck_assert_uint_eq(confinfo_room_look(w.room, sp, w.now), 0);
	describe(&desc);
	doc = read_doc(confinfo_room_full(home, w.room, &desc, DOMAIN, 1));
	expect(doc, "count(//ci:user)", "2");
	xmlFreeDoc(doc);
	confinfo_room_destroy(w.room);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("confinfo");
	TCase *tc = tcase_create("rfc4575");
	int rc;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_document_uses_rfc4575_elements);
	tcase_add_test(tc, partial_document_has_only_what_changed);
	tcase_add_test(tc, deleted_document_is_valid);
	tcase_add_test(tc, version_set_in_a_copy);
	tcase_add_test(tc, room_tells_changes_and_departures);
	tcase_add_test(tc, room_gone_and_back_between_two_notifies);
	tcase_add_test(tc, room_lost_host_failed);
	tcase_add_test(tc, room_names);
	tcase_add_test(tc, room_burst_partial_then_full);
	tcase_add_test(tc, room_forget_starts_again);
	suite_add_tcase(s, tc);
	rc = check_run(s);
	xmlCleanupParser();
	return rc;
}
