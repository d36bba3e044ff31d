/* SIP digest authentication: nonces, challenges, the check of a response.
 * Hashes and the HMAC come from OpenSSL's libcrypto. */
#define LOG_MODULE "digest"
#include "sip/digest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_string.h>

/* The nonce key and the dummy user's secrets: drawn once per process. */
static unsigned char nonce_key[32];
static char dummy_md5[33], dummy_sha256[65];
static bool ready;

static void to_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int digest_init(void)
{
	unsigned char r[32];

	if (RAND_bytes(nonce_key, sizeof(nonce_key)) != 1 ||
	    RAND_bytes(r, sizeof(r)) != 1)
		return -EIO;
	to_hex(dummy_md5, r, 16);
	to_hex(dummy_sha256, r, 32);
	ready = true;
	return 0;
}

const char *digest_dummy_ha1(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? dummy_sha256 : dummy_md5;
}

/* H(data) in hex (RFC 7616 §3.4.1): 32 digits for MD5, 64 for SHA-256. */
static void hash_hex(char *out, enum digest_alg alg, const char *data, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (EVP_Digest(data, n, md, &len,
		       alg == DIGEST_SHA256 ? EVP_sha256() : EVP_md5(),
		       NULL) != 1)
		len = 0;
	to_hex(out, md, len);
}

int digest_ha1(char *buf, size_t len, enum digest_alg alg, const char *user,
	       const char *realm, const char *password)
{
	char *a1;
	int n;

	if (len < (alg == DIGEST_SHA256 ? 65u : 33u))
		return -ENOSPC;
	n = asprintf(&a1, "%s:%s:%s", user, realm, password);
	if (n < 0)
		return -ENOMEM;
	hash_hex(buf, alg, a1, (size_t)n);
	OPENSSL_cleanse(a1, (size_t)n);
	free(a1);
	return 0;
}

/* The MAC of a nonce's first 32 characters (its time and randomness). */
static void nonce_mac(char out[33], const char *head)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!HMAC(EVP_sha256(), nonce_key, sizeof(nonce_key),
		  (const unsigned char *)head, 32, md, &len) ||
	    len < 16)
		memset(md, 0, 16);
	to_hex(out, md, 16);
}

void digest_nonce(char buf[DIGEST_NONCE_LEN + 1], int64_t now)
{
	unsigned char r[8] = {0};

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r)); /* still unforgeable: the MAC */
	snprintf(buf, 17, "%016" PRIx64, (uint64_t)now);
	to_hex(buf + 16, r, sizeof(r));
	nonce_mac(buf + 32, buf);
}

enum digest_nonce digest_nonce_check(const char *nonce, int64_t now,
				     unsigned lifetime)
{
	char mac[33], ts[17];
	uint64_t t;

	if (!ready || !nonce || strlen(nonce) != DIGEST_NONCE_LEN ||
	    strspn(nonce, "0123456789abcdef") != DIGEST_NONCE_LEN)
		return DIGEST_NONCE_FORGED;
	nonce_mac(mac, nonce);
	if (CRYPTO_memcmp(mac, nonce + 32, 32) != 0)
		return DIGEST_NONCE_FORGED;
	memcpy(ts, nonce, 16);
	ts[16] = '\0';
	t = strtoull(ts, NULL, 16);
	/* A nonce from the future is ours but cannot be: the clock went
	 * back.  Treat it as stale, so the client just asks again. */
	if ((int64_t)t > now || now - (int64_t)t > (int64_t)lifetime)
		return DIGEST_NONCE_STALE;
	return DIGEST_NONCE_FRESH;
}

int digest_challenge(char *buf, size_t len, enum digest_alg alg,
		     const char *realm, int64_t now, bool stale)
{
	char nonce[DIGEST_NONCE_LEN + 1];
	int n;

	digest_nonce(nonce, now);
	/* RFC 8760 §2.1: "SHA-256" names the algorithm in SIP; RFC 7616
	 * §3.3: qop is a quoted list. */
	n = snprintf(buf, len,
		     "Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, "
		     "qop=\"auth\"%s",
		     realm, nonce, alg == DIGEST_SHA256 ? "SHA-256" : "MD5",
		     stale ? ", stale=true" : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* The value of parameter @a name in @a params, unquoted into @a buf. */
static int param(msg_param_t const *params, const char *name, char *buf,
		 size_t len, bool *ret_present)
{
	const char *v = msg_params_find(params, name);
	size_t n;

	*ret_present = v != NULL;
	buf[0] = '\0';
	if (!v)
		return 0;
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= len)
		return -EINVAL;
	/* A quoted-string may escape (RFC 3261 §25.1); nothing we check
	 * needs an escaped character, so one is refused, not unescaped. */
	if (memchr(v, '\\', n))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

int digest_parse(msg_param_t const *params, struct digest_cred *ret,
		 const char **ret_why)
{
	struct digest_cred c;
	char alg[32], qop[16];
	bool has_user, has_realm, has_nonce, has_uri, has_resp, has_cnonce,
	    has_nc, has_alg, has_qop;
	char *end;
	size_t rlen;

	memset(&c, 0, sizeof(c));
	if (!params)
		goto missing;
	if (param(params, "username", c.username, sizeof(c.username),
		  &has_user) < 0 ||
	    param(params, "realm", c.realm, sizeof(c.realm), &has_realm) < 0 ||
	    param(params, "nonce", c.nonce, sizeof(c.nonce), &has_nonce) < 0 ||
	    param(params, "uri", c.uri, sizeof(c.uri), &has_uri) < 0 ||
	    param(params, "response", c.response, sizeof(c.response),
		  &has_resp) < 0 ||
	    param(params, "cnonce", c.cnonce, sizeof(c.cnonce), &has_cnonce) <
		0 ||
	    param(params, "nc", c.nc, sizeof(c.nc), &has_nc) < 0 ||
	    param(params, "algorithm", alg, sizeof(alg), &has_alg) < 0 ||
	    param(params, "qop", qop, sizeof(qop), &has_qop) < 0) {
		*ret_why = "credentials: a field is too long or escaped";
		return -EINVAL;
	}
	if (!has_user || !has_realm || !has_nonce || !has_uri || !has_resp ||
	    !c.username[0] || !c.uri[0])
		goto missing;
	if (!has_alg || su_casematch(alg, "MD5"))
		c.alg = DIGEST_MD5; /* RFC 3261 §22.4: MD5 when absent */
	else if (su_casematch(alg, "SHA-256"))
		c.alg = DIGEST_SHA256;
	else {
		*ret_why = "credentials: algorithm not offered (use SHA-256 "
			   "or MD5)";
		return -EINVAL;
	}
	/* We offer qop=auth only, so a response must use it (RFC 7616
	 * §3.4: then cnonce and nc are required). */
	if (!has_qop || !su_casematch(qop, "auth")) {
		*ret_why = "credentials: qop=auth is required";
		return -EINVAL;
	}
	if (!has_cnonce || !c.cnonce[0] || !has_nc || strlen(c.nc) != 8 ||
	    strspn(c.nc, "0123456789abcdefABCDEF") != 8) {
		*ret_why = "credentials: cnonce and an 8-digit nc are required";
		return -EINVAL;
	}
	c.nc_value = (uint32_t)strtoul(c.nc, &end, 16);
	rlen = strlen(c.response);
	if (rlen != (c.alg == DIGEST_SHA256 ? 64u : 32u) ||
	    strspn(c.response, "0123456789abcdefABCDEF") != rlen) {
		*ret_why = "credentials: the response is not a digest of its "
			   "algorithm";
		return -EINVAL;
	}
	for (size_t i = 0; i < rlen; i++)
		if (c.response[i] >= 'A' && c.response[i] <= 'F')
			c.response[i] = (char)(c.response[i] - 'A' + 'a');
	*ret = c;
	return 0;
missing:
	*ret_why = "credentials: username, realm, nonce, uri and response "
		   "are required";
	return -EINVAL;
}

bool digest_verify(const struct digest_cred *cred, const char *ha1,
		   const char *method)
{
	size_t hlen = cred->alg == DIGEST_SHA256 ? 64 : 32;
	char ha2[65], want[65], *a2 = NULL, *kd = NULL;
	int n2, nk;
	bool ok;

	/* A stored secret of the wrong shape counts as none: the dummy's
	 * check runs instead, so the work is the same. */
	if (!ha1 || strlen(ha1) != hlen)
		ha1 = digest_dummy_ha1(cred->alg);
	/* RFC 7616 §3.4.1 and §3.4.3, qop=auth. */
	n2 = asprintf(&a2, "%s:%s", method, cred->uri);
	if (n2 < 0)
		return false;
	hash_hex(ha2, cred->alg, a2, (size_t)n2);
	nk = asprintf(&kd, "%s:%s:%s:%s:auth:%s", ha1, cred->nonce, cred->nc,
		      cred->cnonce, ha2);
	free(a2);
	if (nk < 0)
		return false;
	hash_hex(want, cred->alg, kd, (size_t)nk);
	OPENSSL_cleanse(kd, (size_t)nk);
	free(kd);
	ok = CRYPTO_memcmp(want, cred->response, hlen) == 0;
	return ok && ha1 != digest_dummy_ha1(cred->alg);
}
