/* conference-info+xml documents (RFC 4575 §5) for spaces. */
#include "sip/confinfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "server/catalog.h"
#include "server/space.h"

#define CI_NS "urn:ietf:params:xml:ns:conference-info"

static xmlChar *x(const char *s)
{
	return (xmlChar *)s;
}

static void set_uint(xmlNodePtr n, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	xmlNewProp(n, x(name), x(buf));
}

/* RFC 3339 date-time, as xs:dateTime wants it. */
static void set_time(xmlNodePtr n, const char *name, int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	xmlNewProp(n, x(name), x(buf));
}

static xmlDocPtr new_doc(uint64_t id, const char *domain, unsigned version,
			 const char *state, xmlNodePtr *ret_root)
{
	xmlDocPtr doc = xmlNewDoc(x("1.0"));
	xmlNodePtr root;
	char entity[200];

	if (!doc)
		return NULL;
	root = xmlNewNode(NULL, x("conference-info"));
	xmlDocSetRootElement(doc, root);
	xmlSetNs(root, xmlNewNs(root, x(CI_NS), NULL));
	snprintf(entity, sizeof(entity), "sip:space-%" PRIu64 "@%s", id,
		 domain);
	xmlNewProp(root, x("entity"), x(entity));
	xmlNewProp(root, x("state"), x(state));
	set_uint(root, "version", version);
	*ret_root = root;
	return doc;
}

static char *dump(su_home_t *home, xmlDocPtr doc)
{
	xmlChar *mem = NULL;
	int len = 0;
	char *text;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	text = mem ? su_strndup(home, (const char *)mem, (isize_t)len) : NULL;
	xmlFree(mem);
	xmlFreeDoc(doc);
	return text;
}

/* The room panel (patent): tvspace's extension inside
 * conference-description, which RFC 4575 §5.3 leaves open to other
 * namespaces. */
static void add_panel(xmlNodePtr desc, const struct space *sp,
		      const struct confinfo_panel *panel)
{
	xmlNsPtr tv = xmlNewNs(desc, x(CONFINFO_TV_NS), x("tv"));
	const struct channel *ch = space_channel(sp);
	const struct space_service *svc = space_service(sp);
	xmlNodePtr s = xmlNewChild(desc, tv, x("space"), NULL);

	set_uint(s, "id", space_id(sp));
	if (ch) {
		xmlNodePtr c = xmlNewChild(s, tv, x("channel"), NULL);

		xmlNewProp(c, x("id"), x(ch->id));
		set_uint(c, "number", ch->number);
		xmlNewProp(c, x("name"), x(ch->name ? ch->name : ch->id));
	}
	if (panel && panel->program_title) {
		xmlNodePtr p = xmlNewChild(s, tv, x("program"), NULL);

		xmlNewProp(p, x("title"), x(panel->program_title));
		if (panel->program_start)
			set_time(p, "start", panel->program_start);
		if (panel->program_stop)
			set_time(p, "stop", panel->program_stop);
	}
	xmlNodePtr sv = xmlNewChild(s, tv, x("service"), NULL);

	xmlNewProp(sv, x("id"), x(svc ? svc->id : ""));
	set_uint(sv, "level", svc ? svc->level : 0);
	set_uint(sv, "capacity", space_capacity(sp));
	set_uint(sv, "members", space_count(sp));
	set_uint(sv, "daily-limit", space_daily_limit(sp));
	set_uint(sv, "played-today", panel ? panel->played_today : 0);
	xmlNewProp(s, x("open"), x(space_is_open(sp) ? "true" : "false"));
	set_time(s, "started", space_started(sp));
}

char *confinfo_document(su_home_t *home, const struct space *sp,
			const char *domain, unsigned version,
			const struct confinfo_panel *panel)
{
	xmlNodePtr root, desc, state, users;
	xmlDocPtr doc = new_doc(space_id(sp), domain, version, "full", &root);
	const struct channel *ch = space_channel(sp);
	char uri[200];

	if (!doc)
		return NULL;
	desc = xmlNewChild(root, NULL, x("conference-description"), NULL);
	xmlNewTextChild(desc, NULL, x("display-text"),
			x(ch && ch->name ? ch->name : "tvspace"));
	add_panel(desc, sp, panel);

	state = xmlNewChild(root, NULL, x("conference-state"), NULL);
	snprintf(uri, sizeof(uri), "%u", space_count(sp));
	xmlNewTextChild(state, NULL, x("user-count"), x(uri));
	xmlNewTextChild(state, NULL, x("active"), x("true"));
	users = xmlNewChild(root, NULL, x("users"), NULL);
	for (const struct space_member *m = space_members(sp); m; m = m->next) {
		xmlNodePtr u = xmlNewChild(users, NULL, x("user"), NULL);
		xmlNodePtr roles, ep;

		snprintf(uri, sizeof(uri), "sip:%s@%s", m->user, domain);
		xmlNewProp(u, x("entity"), x(uri));
		xmlNewProp(u, x("state"), x("full"));
		xmlNewTextChild(u, NULL, x("display-text"), x(m->user));
		roles = xmlNewChild(u, NULL, x("roles"), NULL);
		xmlNewTextChild(roles, NULL, x("entry"),
				x(m->role == SPACE_HOST ? "host" : "guest"));
		ep = xmlNewChild(u, NULL, x("endpoint"), NULL);
		xmlNewProp(ep, x("entity"), x(uri));
		xmlNewTextChild(
		    ep, NULL, x("status"),
		    x(m->role == SPACE_PENDING ? "pending" : "connected"));
	}
	return dump(home, doc);
}

char *confinfo_deleted(su_home_t *home, uint64_t id, const char *domain,
		       unsigned version)
{
	xmlNodePtr root;
	xmlDocPtr doc = new_doc(id, domain, version, "deleted", &root);

	return doc ? dump(home, doc) : NULL;
}
