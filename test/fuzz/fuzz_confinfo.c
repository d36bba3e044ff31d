/* Fuzz target: the XML bodies of the SIP side.  The server parses no XML
 * from a SIP peer (commands and DTMF are text, offers SDP); the XML it
 * deals in is the conference-info document (RFC 4575) that every NOTIFY of
 * the conference package carries, written by sip/confinfo.c from strings
 * that came from outside: channel ids and names from the M3U lineup, the
 * programme title from the XMLTV guide, user ids from SIP URIs, display
 * names from the users table.  The input is those, separated by NUL
 * bytes: a lineup, a guide, then the URIs of the members (the first the
 * host), each read the way the server reads it (lineup_parse(),
 * guide_parse(), url_make() and ident_url_user()), then (after an empty
 * part) display names, one a member in order.  Check: the full document
 * is well-formed XML that libxml2 reads back (no network, no entities),
 * with the channel name and the number of members it was given; then, as
 * a room whose subscribers were told the space (sip/conference.c), the
 * names are given to it and every other guest leaves: the partial
 * document that tells this reads back too, and lists every member who
 * left. */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sofia-sip/url.h>

#include "server/catalog.h"
#include "server/guide.h"
#include "server/lineup.h"
#include "server/space.h"
#include "sip/confinfo.h"
#include "sip/ident.h"
#include "test/fuzz/fuzz.h"

#define MAX_MEMBERS 8

/* The next part of the input, up to a NUL byte or the end. */
static const char *part(const char **p, const char *end, size_t *ret_len)
{
	const char *s = *p, *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(end - s));
	*ret_len = (size_t)((nul ? nul : end) - s);
	*p = nul ? nul + 1 : end;
	return s;
}

/* The users a document lists, and how many of them are disconnected. */
static unsigned count_users(xmlNodePtr users, unsigned *ret_gone)
{
	unsigned n = 0;

	*ret_gone = 0;
	for (xmlNodePtr u = users ? users->children : NULL; u; u = u->next) {
		if (u->type != XML_ELEMENT_NODE)
			continue;
		n++;
		for (xmlNodePtr e = u->children; e; e = e->next) {
			xmlChar *t;

			if (e->type != XML_ELEMENT_NODE ||
			    !xmlStrEqual(e->name, (const xmlChar *)"endpoint"))
				continue;
			for (xmlNodePtr st = e->children; st; st = st->next) {
				if (st->type != XML_ELEMENT_NODE ||
				    !xmlStrEqual(st->name,
						 (const xmlChar *)"status"))
					continue;
				t = xmlNodeGetContent(st);
				*ret_gone += t && !strcmp((const char *)t,
							  "disconnected");
				xmlFree(t);
			}
		}
	}
	return n;
}

/* A partial document read back: it lists at least the @a gone members
 * who left, each disconnected. */
static void check_partial(const char *text, unsigned gone)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "ci.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING);
	xmlNodePtr root, n;
	unsigned disconnected = 0;

	FUZZ_CHECK(doc);
	root = xmlDocGetRootElement(doc);
	FUZZ_CHECK(root &&
		   xmlStrEqual(root->name, (const xmlChar *)"conference-info"));
	for (n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(n->name, (const xmlChar *)"users"))
			count_users(n, &disconnected);
	FUZZ_CHECK(disconnected == gone);
	xmlFreeDoc(doc);
}

/* The document read back: what the panel and the user list say. */
static void check_document(const char *text, const struct channel *ch,
			   unsigned members)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "ci.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING);
	xmlNodePtr root, n;
	unsigned users = 0, gone;
	bool named = false;

	FUZZ_CHECK(doc);
	root = xmlDocGetRootElement(doc);
	FUZZ_CHECK(root &&
		   xmlStrEqual(root->name, (const xmlChar *)"conference-info"));
	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, (const xmlChar *)"users"))
			users = count_users(n, &gone);
		if (!xmlStrEqual(n->name,
				 (const xmlChar *)"conference-description"))
			continue;
		/* display-text: the channel's name, as given */
		for (xmlNodePtr d = n->children; d; d = d->next) {
			xmlChar *t;

			if (d->type != XML_ELEMENT_NODE ||
			    !xmlStrEqual(d->name,
					 (const xmlChar *)"display-text"))
				continue;
			t = xmlNodeGetContent(d);
			named = t && !strcmp((const char *)t,
					     ch->name ? ch->name : ch->id);
			xmlFree(t);
		}
	}
	FUZZ_CHECK(users == members);
	FUZZ_CHECK(named);
	xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const char *p = (const char *)data, *end = p + size, *s;
	struct catalog *cat = catalog_create(home);
	struct guide *g = guide_create(home);
	struct space_mgr *mgr = NULL;
	struct space *sp = NULL;
	struct space_plan plan = {0};
	struct confinfo_panel panel = {0};
	const struct programme *prog;
	struct space_service svc = {.id = "svc", .level = 1};
	struct level lv = {.level = 1, .name = "any", .capacity = 16};
	char err[256], user[128];
	unsigned members = 0;
	size_t n;
	char *doc;

	FUZZ_CHECK(cat && g);
	if (!(s = part(&p, end, &n)) ||
	    lineup_parse(cat, s, n, err, sizeof(err)) < 0 ||
	    !(plan.channel = catalog_channel_at(cat, 0)))
		goto out;
	if ((s = part(&p, end, &n)) &&
	    guide_parse(g, s, n, err, sizeof(err)) == 0 &&
	    (prog = guide_now(g, plan.channel->id, INT64_C(1) << 40))) {
		/* conference.c: the programme on the space's channel now */
		panel.program_title = prog->title;
		panel.program_start = prog->start;
		panel.program_stop = prog->stop;
	}
	/* An empty part ends the members: display names follow. */
	while (members < MAX_MEMBERS && (s = part(&p, end, &n)) && n) {
		char *uri = su_strndup(home, s, (isize_t)n);
		url_t *url = uri ? url_make(home, uri) : NULL;
		struct space_offer o = {
		    .media = plan.channel->media == CHANNEL_AUDIO ? "audio"
								  : "video",
		    .port = plan.channel->port,
		    .addr = plan.channel->group,
		    .multicast = true,
		    .pts = {plan.channel->pt},
		    .n_pts = 1};
		struct space_member *m;

		if (!url || ident_url_user(url, user, sizeof(user)) < 0)
			continue;
		if (!sp) {
			svc.user = user;
			svc.default_channel = plan.channel->id;
			FUZZ_CHECK(catalog_add_level(cat, &lv) == 0);
			mgr = space_mgr_create(home, cat);
			FUZZ_CHECK(mgr);
			plan.pt = plan.channel->pt;
			FUZZ_CHECK(space_open(mgr, 7, user, &svc, 0, &plan, &o,
					      NULL, 1000, 1700000000,
					      &sp) == 0);
			members++;
		}
		else if (space_join(sp, user, NULL, false, &o, NULL, 1001,
				    &m) == SPACE_OK)
			members++;
	}
	if (!sp)
		goto out;
	doc = confinfo_document(home, sp, "tv.example", 3, &panel);
	FUZZ_CHECK(doc);
	check_document(doc, plan.channel, members);

	/* A room told this space; names come, every other guest leaves. */
	struct confinfo_room *room = confinfo_room_create(home);
	struct confinfo_desc desc;
	const struct space_member *m = space_members(sp);
	unsigned gone = 0, i = 0;
	bool full;

	FUZZ_CHECK(room);
	FUZZ_CHECK(confinfo_room_look(room, sp, 1700000000) == 0);
	confinfo_describe(sp, &panel, &desc);
	confinfo_room_told(room, &desc);
	for (; m && (s = part(&p, end, &n)); m = m->next) {
		char *name = su_strndup(home, s, (isize_t)n);

		if (name)
			confinfo_room_named(room, m->user, name);
	}
	for (struct space_member *guest = space_host(sp)->next, *next; guest;
	     guest = next) {
		next = guest->next;
		if (i++ % 2)
			continue;
		space_member_remove(guest, 2000);
		gone++;
	}
	confinfo_room_look(room, sp, 1700000001);
	doc = confinfo_room_update(home, room, &desc, "tv.example", 4, &full);
	FUZZ_CHECK(doc || !gone);
	if (doc)
		check_partial(doc, gone);
	confinfo_room_told(room, &desc);
	doc = confinfo_room_full(home, room, &desc, "tv.example", 5);
	FUZZ_CHECK(doc);
	check_document(doc, plan.channel, members - gone);
	confinfo_room_destroy(room);
	space_close(sp);
out:
	space_mgr_destroy(mgr);
	guide_destroy(g);
	catalog_destroy(cat);
	su_home_deinit(home);
	return 0;
}
