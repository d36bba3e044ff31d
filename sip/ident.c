/* Identity of a request's sender, as PROTOCOL.md "Who is asking" allows. */
#define LOG_MODULE "ident"
#include "sip/ident.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/sip_extra.h>

#include "server/cfg.h"
#include "server/log.h"

int ident_url_user(const url_t *url, char *buf, size_t len)
{
	const char *user;
	size_t n;

	if (!url)
		return -EINVAL;
	/* tel:+123 carries the number in the host part (RFC 3966). */
	user = url->url_type == url_tel ? url->url_host : url->url_user;
	if (!user || !*user)
		return -EINVAL;
	n = strlen(user);
	if (n >= len)
		return -EINVAL;
	/* RFC 3261 §25.1: a user part is ASCII (anything else is
	 * %-escaped).  The id goes into SIP headers, the database and the
	 * conference-info XML, where a stray byte of 0x80 or more would
	 * not be UTF-8. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)user[i] < 0x21 || user[i] == 0x7f ||
		    (unsigned char)user[i] >= 0x80)
			return -EINVAL;
	memcpy(buf, user, n + 1);
	return 0;
}

void ident_source_addr(msg_t *msg, char *buf, size_t len)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	const void *addr = NULL;

	buf[0] = '\0';
	if (!ai || !ai->ai_addr)
		return;
	if (ai->ai_family == AF_INET)
		addr = &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
	else if (ai->ai_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
	if (!addr || !inet_ntop(ai->ai_family, addr, buf, (socklen_t)len))
		buf[0] = '\0';
}

static int is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

enum ident_source ident_user(const struct cfg *cfg, msg_t *msg,
			     const sip_t *sip, char *buf, size_t len)
{
	char src[64];
	const sip_p_asserted_identity_t *pai;

	ident_source_addr(msg, src, sizeof(src));

	/* RFC 3325 §5: the header is honoured only inside the trust
	 * domain, i.e. from a peer we were told to trust.  From anyone else
	 * it is ignored, as if absent. */
	pai = sip_p_asserted_identity(sip);
	if (pai && src[0] && cfg_is_trusted_peer(cfg, src)) {
		if (ident_url_user(pai->paid_url, buf, len) == 0)
			return IDENT_PAI;
		return IDENT_NONE;
	}
	if (cfg->trust_loopback_from && src[0] && is_loopback(src) &&
	    sip->sip_from &&
	    ident_url_user(sip->sip_from->a_url, buf, len) == 0)
		return IDENT_FROM;
	return IDENT_NONE;
}
