/* SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760 for SHA-256
 * in SIP): the challenges the server sends, its stateless nonces (time and
 * an HMAC under a per-process random key, so no table and none survives a
 * restart) and the check of a client's credentials against a stored HA1.
 * No I/O; the caller passes the time.  Used by sip/gate.c on the su_root
 * thread, and by test/check_digest.c. */
#ifndef TVSPACE_DIGEST_H
#define TVSPACE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg_types.h>

/* 16 hex digits of time, 16 of randomness, 32 of their HMAC. */
#define DIGEST_NONCE_LEN 64

enum digest_alg { DIGEST_MD5, DIGEST_SHA256 };

enum digest_nonce {
	DIGEST_NONCE_FRESH, /* ours, younger than its lifetime */
	DIGEST_NONCE_STALE, /* ours, expired */
	DIGEST_NONCE_FORGED /* not ours (or of the server before a restart) */
};

/** The fields of an Authorization header, copied. */
struct digest_cred {
	enum digest_alg alg;
	char username[128];
	char realm[128];
	char nonce[DIGEST_NONCE_LEN + 1];
	char uri[512];
	char response[65]; /* lowercase hex */
	char cnonce[128];
	char nc[9]; /* 8 hex digits, as sent */
	uint32_t nc_value;
};

/** Draw the per-process key and the secrets of the dummy user (unknown
 * users are checked against it, so they cost the same).  -EIO when the
 * system has no randomness to give. */
int digest_init(void);

/** A new nonce for time @a now (unix seconds) into @a buf. */
void digest_nonce(char buf[DIGEST_NONCE_LEN + 1], int64_t now);

/** Whether @a nonce is one of ours and younger than @a lifetime seconds. */
enum digest_nonce digest_nonce_check(const char *nonce, int64_t now,
				     unsigned lifetime);

/** The WWW-Authenticate value of a challenge with @a alg, a new nonce and
 * qop=auth (RFC 7616 §3.3), stale=true when @a stale.  -ENOSPC when @a
 * len is too small. */
int digest_challenge(char *buf, size_t len, enum digest_alg alg,
		     const char *realm, int64_t now, bool stale);

/** Parse the parameters of a Digest Authorization header into @a ret.
 * -EINVAL with a reason for a person in @a ret_why when a field is
 * missing, too long, or not what we offered (qop=auth, MD5 or SHA-256). */
int digest_parse(msg_param_t const *params, struct digest_cred *ret,
		 const char **ret_why);

/** True when @a cred's response is right for @a ha1 (hex, of @a cred's
 * algorithm) and request @a method.  Compared in constant time. */
bool digest_verify(const struct digest_cred *cred, const char *ha1,
		   const char *method);

/** The HA1 of the dummy user for @a alg: stands in for a user unknown or
 * without a secret, so the check does the same work and fails. */
const char *digest_dummy_ha1(enum digest_alg alg);

/** HA1 = H(user:realm:password) in hex into @a buf (33 or 65 bytes). */
int digest_ha1(char *buf, size_t len, enum digest_alg alg, const char *user,
	       const char *realm, const char *password);

#endif
