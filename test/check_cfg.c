/* The configuration file: defaults, every kind of value, errors that name
 * the line. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "server/cfg.h"

#include "check_run.h"

static struct cfg cfg;
static char err[256];

static int parse(const char *text)
{
	cfg_defaults(&cfg);
	err[0] = '\0';
	return cfg_parse(&cfg, text, strlen(text), err, sizeof(err));
}

START_TEST(defaults)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_str_eq(cfg.listen, "sip:127.0.0.1:5060");
	ck_assert_str_eq(cfg.factory_user, "share");
	ck_assert(!cfg.trust_loopback_from);
	ck_assert_uint_eq(cfg.admission_timeout, 60);
	ck_assert_uint_eq(cfg.session_expires, 1800);
	ck_assert_int_eq(cfg.grab_policy, CFG_GRAB_ASK);
	ck_assert_int_eq(cfg.host_lost, CFG_HOST_LOST_PROMOTE);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	/* Digest realm: the domain unless set; rate limiting on. */
	ck_assert_str_eq(cfg_realm(&cfg), "tvspace.test");
	ck_assert_uint_eq(cfg.nonce_lifetime, 300);
	ck_assert_uint_eq(cfg.rate_limit, 20);
	ck_assert_uint_eq(cfg.rate_burst, 40);
	ck_assert_uint_eq(cfg.rate_limit_trusted, 0);
	/* Guessing per user: five failures, then 30 s doubling to 1 h. */
	ck_assert_uint_eq(cfg.auth_failures, 5);
	ck_assert_uint_eq(cfg.auth_lockout, 30);
	ck_assert_uint_eq(cfg.auth_lockout_max, 3600);
}
END_TEST

static void expect_error(const char *text, const char *want);

START_TEST(auth_guard_keys)
{
	ck_assert_int_eq(parse("auth_failures = 3\n"
			       "auth_lockout = 2\n"
			       "auth_lockout_max = 8\n"),
			 0);
	ck_assert_uint_eq(cfg.auth_failures, 3);
	ck_assert_uint_eq(cfg.auth_lockout, 2);
	ck_assert_uint_eq(cfg.auth_lockout_max, 8);
	ck_assert_int_eq(parse("auth_failures = 0\n"), 0);
	expect_error("auth_lockout = 0",
		     "line 1: auth_lockout: must be from 1");
	expect_error("auth_lockout = 600\nauth_lockout_max = 60\n",
		     "auth_lockout must not exceed auth_lockout_max");
}
END_TEST

START_TEST(auth_and_rate_keys)
{
	ck_assert_int_eq(parse("auth_realm = tv.example.net\n"
			       "nonce_lifetime = 60\n"
			       "rate_limit = 0\n"
			       "rate_burst = 5\n"
			       "rate_limit_trusted = 2000\n"),
			 0);
	ck_assert_str_eq(cfg_realm(&cfg), "tv.example.net");
	ck_assert_uint_eq(cfg.nonce_lifetime, 60);
	ck_assert_uint_eq(cfg.rate_limit, 0);
	ck_assert_uint_eq(cfg.rate_burst, 5);
	ck_assert_uint_eq(cfg.rate_limit_trusted, 2000);
	ck_assert_uint_eq(cfg.n_digest_algorithms, 2);
	ck_assert_int_eq(cfg.digest_algorithms[0], CFG_DIGEST_SHA256);
	ck_assert_int_eq(parse("digest_algorithms = md5"), 0);
	ck_assert_uint_eq(cfg.n_digest_algorithms, 1);
	ck_assert_int_eq(cfg.digest_algorithms[0], CFG_DIGEST_MD5);
	ck_assert_int_eq(parse("digest_algorithms = MD5, SHA-256"), 0);
	ck_assert_uint_eq(cfg.n_digest_algorithms, 2);
	ck_assert_int_eq(cfg.digest_algorithms[1], CFG_DIGEST_SHA256);
	expect_error("digest_algorithms = SHA-1",
		     "digest_algorithms: 'SHA-1' is not SHA-256 or MD5");
	expect_error("digest_algorithms = MD5 md5",
		     "digest_algorithms: 'md5' twice");
	ck_assert_int_eq(parse("nonce_lifetime = 1"), -EINVAL);
	ck_assert_int_eq(parse("rate_burst = 0"), -EINVAL);
}
END_TEST

START_TEST(values_of_every_kind)
{
	ck_assert_int_eq(
	    parse("# comment\n"
		  "  listen = sip:0.0.0.0:5080   # trailing comment\n"
		  "domain=\"tv.example.net\"\r\n"
		  "trusted_peers = 10.0.0.1, 10.0.0.2 2001:db8::5\n"
		  "trust_loopback_from = Yes\n"
		  "admission_timeout = 5\n"
		  "session_expires = 0\n"
		  "grab_policy = free\n"
		  "host_lost = end\n"
		  "auto_admit = friends\n"
		  "log_level = debug\n"),
	    0);
	ck_assert_str_eq(cfg.listen, "sip:0.0.0.0:5080");
	ck_assert_str_eq(cfg.domain, "tv.example.net");
	ck_assert_uint_eq(cfg.n_trusted_peers, 3);
	ck_assert(cfg_is_trusted_peer(&cfg, "10.0.0.2"));
	ck_assert(cfg_is_trusted_peer(&cfg, "2001:0db8:0::5"));
	ck_assert(!cfg_is_trusted_peer(&cfg, "10.0.0.3"));
	ck_assert(!cfg_is_trusted_peer(&cfg, "not an address"));
	ck_assert(cfg.trust_loopback_from);
	ck_assert_uint_eq(cfg.admission_timeout, 5);
	ck_assert_uint_eq(cfg.session_expires, 0);
	ck_assert_int_eq(cfg.grab_policy, CFG_GRAB_FREE);
	ck_assert_int_eq(cfg.host_lost, CFG_HOST_LOST_END);
	ck_assert_int_eq(cfg.auto_admit, CFG_ADMIT_FRIENDS);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_msg(strstr(err, want) != NULL, "want '%s', got '%s'", want,
		      err);
}

/* The version goes in User-Agent only on a loopback listen address
 * unless server_header says otherwise (issue 19, item 7). */
START_TEST(server_header_hides_the_version_off_loopback)
{
	static const struct {
		const char *listen;
		bool loopback;
	} cases[] = {
	    {"sip:127.0.0.1:5060", true}, {"sip:127.0.0.2;transport=udp", true},
	    {"sip:localhost:5070", true}, {"sip:[::1]:5060", true},
	    {"sip:0.0.0.0:5060", false},  {"sip:*:5060", false},
	    {"sip:192.0.2.10", false},    {"sip:[2001:db8::1]:5060", false},
	    {"sip:[::]:5060", false},     {"sip:tv.example.net:5060", false},
	};
	char text[128];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "listen = %s\n", cases[i].listen);
		ck_assert_int_eq(parse(text), 0);
		ck_assert_msg(cfg_listen_is_loopback(&cfg) == cases[i].loopback,
			      "%s", cases[i].listen);
		ck_assert_str_eq(cfg_server_header(&cfg),
				 cases[i].loopback ? "tvspace/" TVSPACE_VERSION
						   : "tvspace");
	}
	/* Set, it is sent as written, wherever the server listens; "" sends
	 * none. */
	ck_assert_int_eq(parse("listen = sip:192.0.2.10\n"
			       "server_header = tvspace/" TVSPACE_VERSION
			       " (Debian)\n"),
			 0);
	ck_assert_str_eq(cfg_server_header(&cfg),
			 "tvspace/" TVSPACE_VERSION " (Debian)");
	ck_assert_int_eq(parse("server_header = \"\"\n"), 0);
	ck_assert_str_eq(cfg_server_header(&cfg), "");
	ck_assert_int_eq(parse("server_header =\n"), 0);
	ck_assert_str_eq(cfg_server_header(&cfg), "");
	expect_error("server_header = tv\tspace",
		     "line 1: server_header: printable ASCII only");
	expect_error("server_header = tv\xc3\xa9",
		     "line 1: server_header: printable ASCII only");
}
END_TEST

START_TEST(errors_name_the_line)
{
	expect_error("\n\nlisten_port = 5060\n",
		     "line 3: unknown option 'listen_port'");
	expect_error("admission_timeout = abc",
		     "line 1: admission_timeout: expected a whole number, got "
		     "'abc'");
	expect_error("admission_timeout = -5", "expected a whole number");
	expect_error("admission_timeout = 0", "must be from 1 to 86400");
	expect_error("session_expires = 30",
		     "session_expires: must be 0 (off) or at least 90");
	expect_error("trust_loopback_from = maybe",
		     "trust_loopback_from: expected yes or no, got 'maybe'");
	expect_error("trusted_peers = 10.0.0.1, s-cscf.example",
		     "trusted_peers: 's-cscf.example' is not an IP address");
	expect_error("grab_policy = sometimes",
		     "grab_policy: 'sometimes' is not one of the choices");
	expect_error("just words", "line 1: expected 'key = value'");
	expect_error("rtp_port_min = 30000\nrtp_port_max = 20000",
		     "rtp_port_min must be below rtp_port_max");
	{
		char big[400];

		memset(big, 'x', sizeof(big));
		memcpy(big, "domain = ", 9);
		big[sizeof(big) - 1] = '\0';
		expect_error(big, "domain: the value is too long");
	}
}
END_TEST

START_TEST(nul_and_long_lines)
{
	char nul[] = "domain = a\0b\n";
	char *big = malloc(5000);

	cfg_defaults(&cfg);
	ck_assert_int_eq(
	    cfg_parse(&cfg, nul, sizeof(nul) - 1, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "NUL byte"));
	memset(big, 'y', 4999);
	big[4999] = '\0';
	expect_error(big, "line 1: the line is too long");
	free(big);
}
END_TEST

START_TEST(the_day_starts_at_local_midnight)
{
	char day[16];

	/* 2026-11-24 03:30 UTC is 2026-11-23 22:30 in New York (UTC-5) and
	 * 2026-11-24 12:30 in Tokyo (UTC+9). */
	const long long t = 1795491000LL;

	cfg_defaults(&cfg);
	strcpy(cfg.timezone, "America/New_York");
	cfg_apply_timezone(&cfg);
	cfg_day_name(t, day, sizeof(day));
	ck_assert_str_eq(day, "2026-11-23");
	ck_assert_int_eq(cfg_day_start(t), 1795410000LL);
	strcpy(cfg.timezone, "Asia/Tokyo");
	cfg_apply_timezone(&cfg);
	cfg_day_name(t, day, sizeof(day));
	ck_assert_str_eq(day, "2026-11-24");
	ck_assert_int_eq(cfg_day_start(t), 1795446000LL);
	strcpy(cfg.timezone, "UTC");
	cfg_apply_timezone(&cfg);
	ck_assert_int_eq(cfg_day_start(t), 1795478400LL);
}
END_TEST

START_TEST(a_file_too_large_is_refused_not_cut)
{
	char path[] = "/tmp/tvspace-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	ck_assert_ptr_nonnull(f);
	fputs("domain = a.example\n", f);
	for (int i = 0; i < (1 << 20) / 16 + 1; i++)
		fputs("# padding......\n", f);
	fclose(f);
	cfg_defaults(&cfg);
	ck_assert_int_eq(cfg_load(&cfg, path, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	ck_assert_str_eq(cfg.domain, "tvspace.test"); /* nothing taken */
	unlink(path);
}
END_TEST

START_TEST(demo_config_loads_with_paths_beside_it)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");
	char path[512];

	snprintf(path, sizeof(path), "%s/etc/demo.conf", src ? src : ".");
	cfg_defaults(&cfg);
	ck_assert_msg(cfg_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert(cfg.trust_loopback_from);
	ck_assert_ptr_nonnull(strstr(cfg.lineup, "/etc/demo-lineup.m3u"));
	snprintf(path, sizeof(path), "%s/etc/tvspace.conf", src ? src : ".");
	cfg_defaults(&cfg);
	ck_assert_msg(cfg_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!cfg.trust_loopback_from);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, values_of_every_kind);
	tcase_add_test(tc, auth_and_rate_keys);
	tcase_add_test(tc, server_header_hides_the_version_off_loopback);
	tcase_add_test(tc, auth_guard_keys);
	tcase_add_test(tc, errors_name_the_line);
	tcase_add_test(tc, nul_and_long_lines);
	tcase_add_test(tc, the_day_starts_at_local_midnight);
	tcase_add_test(tc, a_file_too_large_is_refused_not_cut);
	tcase_add_test(tc, demo_config_loads_with_paths_beside_it);
	suite_add_tcase(s, tc);
	return check_run(s);
}
