/* Fuzz target: the XML bodies of the SIP side.  The server parses no XML
 * from a SIP peer (commands and DTMF are text, offers SDP); the XML it
 * deals in is the conference-info document (RFC 4575) that every NOTIFY of
 * the conference package carries, written by confinfo_document() from
 * strings that came from outside: channel ids and names from the M3U
 * lineup, the programme title from the XMLTV guide, user ids from SIP
 * URIs.  The input is those, separated by NUL bytes: a lineup, a guide,
 * then the URIs of the members (the first the host), each read the way the
 * server reads it (lineup_parse(), guide_parse(), url_make() and
 * ident_url_user()).  Check: the document is well-formed XML that libxml2
 * reads back (no network, no entities), with the channel name and the
 * number of members it was given. */
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

/* The document read back: what the panel and the user list say. */
static void check_document(const char *text, const struct channel *ch,
			   unsigned members)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "ci.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING);
	xmlNodePtr root, n;
	unsigned users = 0;
	bool named = false;

	FUZZ_CHECK(doc);
	root = xmlDocGetRootElement(doc);
	FUZZ_CHECK(root &&
		   xmlStrEqual(root->name, (const xmlChar *)"conference-info"));
	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, (const xmlChar *)"users"))
			for (xmlNodePtr u = n->children; u; u = u->next)
				users += u->type == XML_ELEMENT_NODE;
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
	while (members < MAX_MEMBERS && (s = part(&p, end, &n))) {
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
	space_close(sp);
out:
	space_mgr_destroy(mgr);
	guide_destroy(g);
	catalog_destroy(cat);
	su_home_deinit(home);
	return 0;
}
