/* Conference state documents: valid against RFC 4575's schema and the
 * room panel's own, and true to the space. */
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

static su_home_t home[1];
static struct catalog *cat;
static struct space_mgr *mgr;
static struct space *sp;

static void setup(void)
{
	struct channel ch = {
	    .id = "news",
	    .number = 1,
	    .name = "Demo News & <More>",
	    .media = CHANNEL_VIDEO,
	    .pt = 33,
	    .group = "232.10.0.1",
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
	struct space_offer o = {
	    .media = "video",
	    .port = 5004,
	    .addr = "232.10.0.1",
	    .multicast = true,
	    .pts = {33},
	    .n_pts = 1,
	};
	struct space_plan plan;
	struct space_member *m, *a;

	su_home_init(home);
	cat = catalog_create(home);
	ck_assert_int_eq(catalog_add_channel(cat, &ch), 0);
	ck_assert_int_eq(catalog_add_level(cat, &lv), 0);
	mgr = space_mgr_create(home, cat);
	ck_assert_int_eq(
	    space_plan_start(mgr, "alice", &svc, 0, &o, 1000, &plan), SPACE_OK);
	ck_assert_int_eq(space_open(mgr, 12, "alice", &svc, 0, &plan, &o, NULL,
				    1000, 1700000000, &sp),
			 0);
	ck_assert_int_eq(space_join(sp, "bob", NULL, false, &o, NULL, 2000, &m),
			 SPACE_OK);
	ck_assert_int_eq(space_admit(sp, m->request, 3000, &a), SPACE_OK);
	ck_assert_int_eq(
	    space_join(sp, "carol", NULL, false, &o, NULL, 4000, &m), SPACE_OK);
}

static void teardown(void)
{
	space_mgr_destroy(mgr);
	catalog_destroy(cat);
	su_home_deinit(home);
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

static const char *path(const char *rel)
{
	static char buf[4][512];
	static int i;
	const char *src = getenv("TVSPACE_SOURCE_DIR");

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", src ? src : ".", rel);
	return buf[i];
}

static char *xpath_str(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr r;
	char *out;

	xmlXPathRegisterNs(ctx, (const xmlChar *)"ci",
			   (const xmlChar *)"urn:ietf:params:xml:ns:"
					    "conference-info");
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

START_TEST(document_is_valid_rfc4575_and_panel)
{
	struct confinfo_panel panel = {
	    .program_title = "Evening News",
	    .program_start = 1700000000,
	    .program_stop = 1700001800,
	    .played_today = 300,
	};
	char *text = confinfo_document(home, sp, "tvspace.test", 3, &panel);
	xmlDocPtr doc, sub;
	xmlNodePtr n;

	ck_assert_ptr_nonnull(text);
	doc =
	    xmlReadMemory(text, (int)strlen(text), NULL, NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(
	    validate(doc, path("test/data/xsd/conference-info.xsd")), 0);

	expect(doc, "string(/ci:conference-info/@entity)",
	       "sip:space-12@tvspace.test");
	expect(doc, "string(/ci:conference-info/@version)", "3");
	expect(doc, "string(/ci:conference-info/@state)", "full");
	expect(doc, "string(//ci:user-count)", "2");
	expect(doc, "count(//ci:user)", "3");
	expect(doc, "string(//ci:user[1]/@entity)", "sip:alice@tvspace.test");
	expect(doc, "string(//ci:user[1]/ci:roles/ci:entry)", "host");
	expect(doc, "string(//ci:user[2]/ci:roles/ci:entry)", "guest");
	expect(doc, "string(//ci:user[3]/ci:display-text)", "carol");
	expect(doc, "string(//ci:user[3]/ci:endpoint/ci:status)", "pending");
	expect(doc, "string(//ci:user[2]/ci:endpoint/ci:status)", "connected");
	expect(doc, "string(//tv:space/@id)", "12");
	expect(doc, "string(//tv:channel/@name)", "Demo News & <More>");
	expect(doc, "string(//tv:program/@title)", "Evening News");
	expect(doc, "string(//tv:service/@capacity)", "4");
	expect(doc, "string(//tv:service/@members)", "2");
	expect(doc, "string(//tv:service/@daily-limit)", "7200");
	expect(doc, "string(//tv:service/@played-today)", "300");

	/* The panel against the project's own schema. */
	n = xmlDocGetRootElement(doc)->children;
	while (n &&
	       !xmlStrEqual(n->name, (const xmlChar *)"conference-description"))
		n = n->next;
	ck_assert_ptr_nonnull(n);
	for (n = n->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(n->name, (const xmlChar *)"space"))
			break;
	ck_assert_ptr_nonnull(n);
	sub = xmlNewDoc((const xmlChar *)"1.0");
	xmlDocSetRootElement(sub, xmlDocCopyNode(n, sub, 1));
	ck_assert_int_eq(validate(sub, path("docs/tvspace-space.xsd")), 0);
	xmlFreeDoc(sub);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(deleted_document_is_valid)
{
	char *text = confinfo_deleted(home, 12, "tvspace.test", 9);
	xmlDocPtr doc =
	    xmlReadMemory(text, (int)strlen(text), NULL, NULL, XML_PARSE_NONET);

	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(
	    validate(doc, path("test/data/xsd/conference-info.xsd")), 0);
	expect(doc, "string(/ci:conference-info/@state)", "deleted");
	expect(doc, "count(//ci:user)", "0");
	xmlFreeDoc(doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("confinfo");
	TCase *tc = tcase_create("rfc4575");
	int rc;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, document_is_valid_rfc4575_and_panel);
	tcase_add_test(tc, deleted_document_is_valid);
	suite_add_tcase(s, tc);
	rc = check_run(s);
	xmlCleanupParser();
	return rc;
}
