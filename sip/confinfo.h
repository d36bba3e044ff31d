/* Conference state documents (RFC 4575, application/conference-info+xml)
 * for a space, built with libxml2: every member with its roles and status,
 * and the room panel in tvspace's own namespace.  Called by the SIP adapter
 * for each NOTIFY of the conference event package. */
#ifndef TVSPACE_CONFINFO_H
#define TVSPACE_CONFINFO_H

#include <stdint.h>
#include <sofia-sip/su_alloc.h>

struct space;

/** The namespace of the room panel extension. */
#define CONFINFO_TV_NS "urn:tvspace:params:xml:ns:space"

/** What the panel shows beyond the core's state. */
struct confinfo_panel {
	const char *program_title; /* the guide's programme, or NULL */
	int64_t program_start;     /* unix seconds, 0 if unknown */
	int64_t program_stop;
	unsigned played_today; /* seconds booked today */
};

/** A full conference-info document for @a sp, version @a version, with
 * URIs in @a domain; allocated in @a home; NULL on failure. */
char *confinfo_document(su_home_t *home, const struct space *sp,
			const char *domain, unsigned version,
			const struct confinfo_panel *panel);

/** The document that says space @a id is gone (state "deleted", RFC 4575
 * §5.1), sent with the final NOTIFY when a space ends. */
char *confinfo_deleted(su_home_t *home, uint64_t id, const char *domain,
		       unsigned version);

#endif
