/* Who is asking: the user ID of a request, trusted only as PROTOCOL.md
 * "Who is asking" says.  P-Asserted-Identity (RFC 3325) from a configured
 * trusted peer; the From URI from loopback when the configuration says so;
 * nothing else here (the From authenticated by digest is sip/gate.c's).
 * Called by the SIP adapter on the su_root thread. */
#ifndef TVSPACE_IDENT_H
#define TVSPACE_IDENT_H

#include <stddef.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

struct cfg;

enum ident_source {
	IDENT_NONE,
	IDENT_PAI,   /* a trusted peer's P-Asserted-Identity */
	IDENT_FROM,  /* the From of a loopback request, development mode */
	IDENT_DIGEST /* the From, authenticated by digest (sip/gate.c) */
};

/** Write the user ID of request @a sip (received as @a msg) into @a buf:
 * the user part of the identity URI (of a tel: URI, its number).  Returns
 * how it was established, IDENT_NONE when it cannot be trusted. */
enum ident_source ident_user(const struct cfg *cfg, msg_t *msg,
			     const sip_t *sip, char *buf, size_t len);

/** The numeric source address of @a msg into @a buf ("" if unknown). */
void ident_source_addr(msg_t *msg, char *buf, size_t len);

/** Copy the user part of @a url into @a buf; -EINVAL when it has none or
 * it is too long. */
int ident_url_user(const url_t *url, char *buf, size_t len);

#endif
