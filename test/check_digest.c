/* SIP digest authentication: the responses of RFC 7616 §3.9.1 (MD5 and
 * SHA-256), nonces that are ours, stale or forged, and credentials that
 * are refused before any secret is looked at. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sip/digest.h"

#include "check_run.h"

/* RFC 7616 §3.9.1. */
static struct digest_cred mufasa(enum digest_alg alg, const char *response)
{
	struct digest_cred c;

	memset(&c, 0, sizeof(c));
	c.alg = alg;
	strcpy(c.username, "Mufasa");
	strcpy(c.realm, "http-auth@example.org");
	strcpy(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	strcpy(c.uri, "/dir/index.html");
	strcpy(c.cnonce, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	strcpy(c.nc, "00000001");
	c.nc_value = 1;
	strcpy(c.response, response);
	return c;
}

static void setup(void)
{
	ck_assert_int_eq(digest_init(), 0);
}

START_TEST(rfc7616_examples)
{
	char ha1[65];
	struct digest_cred md5 =
	    mufasa(DIGEST_MD5, "8ca523f5e9506fed4657c9700eebdbec");
	struct digest_cred sha = mufasa(
	    DIGEST_SHA256,
	    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");

	ck_assert_int_eq(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "Mufasa",
				    "http-auth@example.org", "Circle of Life"),
			 0);
	ck_assert(digest_verify(&md5, ha1, "GET"));
	ck_assert(!digest_verify(&md5, ha1, "POST"));
	ck_assert_int_eq(digest_ha1(ha1, sizeof(ha1), DIGEST_SHA256, "Mufasa",
				    "http-auth@example.org", "Circle of Life"),
			 0);
	ck_assert(digest_verify(&sha, ha1, "GET"));
	/* A wrong password, a secret of the other algorithm, none. */
	ck_assert_int_eq(digest_ha1(ha1, sizeof(ha1), DIGEST_SHA256, "Mufasa",
				    "http-auth@example.org", "circle of life"),
			 0);
	ck_assert(!digest_verify(&sha, ha1, "GET"));
	ck_assert(
	    !digest_verify(&sha, "8ca523f5e9506fed4657c9700eebdbec", "GET"));
	ck_assert(!digest_verify(&sha, NULL, "GET"));
	/* The dummy user's secret never passes, even when the response was
	 * made with it. */
	ck_assert(!digest_verify(&sha, digest_dummy_ha1(DIGEST_SHA256), "GET"));
}
END_TEST

START_TEST(nonces_ours_stale_forged)
{
	char n[DIGEST_NONCE_LEN + 1], other[DIGEST_NONCE_LEN + 1];

	digest_nonce(n, 1000);
	digest_nonce(other, 1000);
	ck_assert_uint_eq(strlen(n), DIGEST_NONCE_LEN);
	ck_assert_str_ne(n, other); /* random part */
	ck_assert_int_eq(digest_nonce_check(n, 1000, 300), DIGEST_NONCE_FRESH);
	ck_assert_int_eq(digest_nonce_check(n, 1300, 300), DIGEST_NONCE_FRESH);
	ck_assert_int_eq(digest_nonce_check(n, 1301, 300), DIGEST_NONCE_STALE);
	ck_assert_int_eq(digest_nonce_check(n, 999, 300), DIGEST_NONCE_STALE);
	/* Another time under the same MAC, a changed MAC, junk. */
	n[15] = n[15] == '9' ? '8' : '9';
	ck_assert_int_eq(digest_nonce_check(n, 1000, 300), DIGEST_NONCE_FORGED);
	ck_assert_int_eq(digest_nonce_check("abc", 1000, 300),
			 DIGEST_NONCE_FORGED);
	ck_assert_int_eq(digest_nonce_check(NULL, 1000, 300),
			 DIGEST_NONCE_FORGED);
	/* A new key (a restart): the old nonces are no longer ours. */
	ck_assert_int_eq(digest_init(), 0);
	ck_assert_int_eq(digest_nonce_check(other, 1000, 300),
			 DIGEST_NONCE_FORGED);
}
END_TEST

START_TEST(challenge_text)
{
	char buf[300], small[40];

	ck_assert_int_eq(digest_challenge(buf, sizeof(buf), DIGEST_SHA256,
					  "tvspace.test", 5, true),
			 0);
	ck_assert_ptr_nonnull(strstr(buf, "Digest realm=\"tvspace.test\", "
					  "nonce=\""));
	ck_assert_ptr_nonnull(
	    strstr(buf, "algorithm=SHA-256, qop=\"auth\", stale=true"));
	ck_assert_int_eq(digest_challenge(buf, sizeof(buf), DIGEST_MD5,
					  "tvspace.test", 5, false),
			 0);
	ck_assert_ptr_nonnull(strstr(buf, "algorithm=MD5, qop=\"auth\""));
	ck_assert_ptr_null(strstr(buf, "stale"));
	ck_assert_int_lt(digest_challenge(small, sizeof(small), DIGEST_MD5,
					  "tvspace.test", 5, false),
			 0);
}
END_TEST

static int parse(const char *const *params, struct digest_cred *c,
		 const char **why)
{
	*why = NULL;
	return digest_parse((msg_param_t const *)params, c, why);
}

START_TEST(credentials_parsed_and_refused)
{
	struct digest_cred c;
	const char *why;
	const char *good[] = {"username=\"alice\"",
			      "realm=\"tvspace.test\"",
			      "nonce=\"abc\"",
			      "uri=\"sip:share@tvspace.test\"",
			      "response=\"8CA523F5E9506FED4657C9700EEBDBEC\"",
			      "cnonce=\"x\"",
			      "nc=0000000a",
			      "qop=auth",
			      NULL};
	const char *sha_short[] = {"username=alice",
				   "realm=r",
				   "nonce=n",
				   "uri=sip:x",
				   "response=8ca523f5e9506fed4657c9700eebdbec",
				   "cnonce=x",
				   "nc=00000001",
				   "qop=auth",
				   "algorithm=SHA-256",
				   NULL};
	const char *no_qop[] = {"username=alice",
				"realm=r",
				"nonce=n",
				"uri=sip:x",
				"response=8ca523f5e9506fed4657c9700eebdbec",
				NULL};
	const char *sess[] = {"username=alice",
			      "realm=r",
			      "nonce=n",
			      "uri=sip:x",
			      "response=8ca523f5e9506fed4657c9700eebdbec",
			      "algorithm=MD5-sess",
			      NULL};
	const char *no_user[] = {"realm=r", "nonce=n", "uri=sip:x",
				 "response=00", NULL};

	ck_assert_int_eq(parse(good, &c, &why), 0);
	ck_assert_int_eq(c.alg, DIGEST_MD5);
	ck_assert_str_eq(c.username, "alice");
	ck_assert_str_eq(c.uri, "sip:share@tvspace.test");
	ck_assert_str_eq(c.response, "8ca523f5e9506fed4657c9700eebdbec");
	ck_assert_uint_eq(c.nc_value, 10);
	ck_assert_int_lt(parse(sha_short, &c, &why), 0);
	ck_assert_str_eq(why, "credentials: the response is not a digest of "
			      "its algorithm");
	ck_assert_int_lt(parse(no_qop, &c, &why), 0);
	ck_assert_str_eq(why, "credentials: qop=auth is required");
	ck_assert_int_lt(parse(sess, &c, &why), 0);
	ck_assert_ptr_nonnull(strstr(why, "algorithm not offered"));
	ck_assert_int_lt(parse(no_user, &c, &why), 0);
	ck_assert_ptr_nonnull(strstr(why, "are required"));
	ck_assert_int_lt(parse(NULL, &c, &why), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("digest");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, rfc7616_examples);
	tcase_add_test(tc, nonces_ours_stale_forged);
	tcase_add_test(tc, challenge_text);
	tcase_add_test(tc, credentials_parsed_and_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
