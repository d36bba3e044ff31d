/* Configuration file: "key = value" lines, '#' comments, validated as read,
 * with errors that name the line and say what was expected. */
#include "server/cfg.h"
#include "server/textfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

void cfg_defaults(struct cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->listen, "sip:127.0.0.1:5060");
	strcpy(cfg->domain, "tvspace.test");
	strcpy(cfg->factory_user, "share");
	strcpy(cfg->db, "dbname=tvspace");
	strcpy(cfg->lineup, "/etc/tvspace/lineup.m3u");
	cfg->admission_timeout = 60;
	cfg->nonce_lifetime = 300;
	cfg->digest_algorithms[0] = CFG_DIGEST_SHA256;
	cfg->digest_algorithms[1] = CFG_DIGEST_MD5;
	cfg->n_digest_algorithms = 2;
	cfg->rate_limit = 20;
	cfg->rate_burst = 40;
	cfg->auth_failures = 5;
	cfg->auth_lockout = 30;
	cfg->auth_lockout_max = 3600;
	cfg->host_grace = 60;
	cfg->session_expires = 1800;
	cfg->max_body = 1024;
	cfg->comment_history = 10;
	cfg->notify_interval = 100;
	cfg->member_notices = true;
	cfg->service_cache_size = 10000;
	cfg->service_cache_ttl = 60;
	cfg->reinvite_window = 16;
	cfg->reinvite_window_max = 16;
	cfg->max_loop_lag = 200;
	cfg->db_queue_soft = 2000;
	cfg->db_queue_hard = 20000;
	cfg->db_max_age = 1000;
	cfg->queue_delay_target = 40;
	cfg->quota_warnings[0] = 600;
	cfg->quota_warnings[1] = 300;
	cfg->quota_warnings[2] = 60;
	cfg->n_quota_warnings = 3;
	cfg->book_interval = 30;
	cfg->instant_change = true;
	cfg->rtp_port_min = 20000;
	cfg->rtp_port_max = 29999;
	strcpy(cfg->media_addr, "127.0.0.1");
	cfg->grab_policy = CFG_GRAB_ASK;
	cfg->host_lost = CFG_HOST_LOST_PROMOTE;
	cfg->auto_admit = CFG_ADMIT_NONE;
	cfg->log_level = LOG_INFO;
	cfg->lease_time = 10;
}

struct parse {
	unsigned line;
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	textfile_line_error(p->err, p->errlen, p->line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_str(struct parse *p, const char *key, const char *v, char *dst,
		   size_t size)
{
	if (strlen(v) >= size)
		return fail(p, "%s: the value is too long", key);
	strcpy(dst, v);
	return 0;
}

static int set_uint(struct parse *p, const char *key, const char *v,
		    unsigned min, unsigned max, unsigned *dst)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-')
		return fail(p, "%s: expected a whole number, got '%s'", key, v);
	if (n < min || n > max) {
		return fail(p, "%s: must be from %u to %u, got %lu", key, min,
			    max, n);
	}
	*dst = (unsigned)n;
	return 0;
}

static int set_bool(struct parse *p, const char *key, const char *v, bool *dst)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*dst = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*dst = false;
			return 0;
		}
	}
	return fail(p, "%s: expected yes or no, got '%s'", key, v);
}

static int valid_addr(const char *a)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, a, buf) == 1 ||
	       inet_pton(AF_INET6, a, buf) == 1;
}

static int set_peers(struct parse *p, struct cfg *cfg, const char *v)
{
	char copy[1024], *save = NULL, *tok;

	if (strlen(v) >= sizeof(copy))
		return fail(p, "trusted_peers: the list is too long");
	strcpy(copy, v);
	cfg->n_trusted_peers = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!valid_addr(tok))
			return fail(
			    p, "trusted_peers: '%s' is not an IP address", tok);
		if (cfg->n_trusted_peers >= CFG_MAX_PEERS)
			return fail(p, "trusted_peers: more than %d peers",
				    CFG_MAX_PEERS);
		strcpy(cfg->trusted_peers[cfg->n_trusted_peers++], tok);
	}
	return 0;
}

/* "SHA-256, MD5": the digest algorithms, preferred first. */
static int set_digest(struct parse *p, struct cfg *cfg, const char *v)
{
	char copy[128], *save = NULL, *tok;
	unsigned n = 0;
	enum cfg_digest algs[2], a;

	if (strlen(v) >= sizeof(copy))
		return fail(p, "digest_algorithms: the list is too long");
	strcpy(copy, v);
	for (tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (strcasecmp(tok, "SHA-256") == 0)
			a = CFG_DIGEST_SHA256;
		else if (strcasecmp(tok, "MD5") == 0)
			a = CFG_DIGEST_MD5;
		else
			return fail(p,
				    "digest_algorithms: '%s' is not SHA-256 "
				    "or MD5",
				    tok);
		if (n == 2 || (n == 1 && algs[0] == a))
			return fail(p, "digest_algorithms: '%s' twice", tok);
		algs[n++] = a;
	}
	if (n == 0)
		return fail(p, "digest_algorithms: name SHA-256, MD5 or both");
	memcpy(cfg->digest_algorithms, algs, sizeof(algs));
	cfg->n_digest_algorithms = n;
	return 0;
}

/* "600, 300, 60": seconds left at which members are warned, kept in
 * descending order. */
static int set_warnings(struct parse *p, struct cfg *cfg, const char *v)
{
	char copy[256], *save = NULL, *tok;
	unsigned n = 0, val = 0;

	if (strlen(v) >= sizeof(copy))
		return fail(p, "quota_warnings: the list is too long");
	strcpy(copy, v);
	for (tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (n >= CFG_MAX_WARNINGS)
			return fail(p, "quota_warnings: more than %d values",
				    CFG_MAX_WARNINGS);
		if (set_uint(p, "quota_warnings", tok, 1, 86400, &val) < 0)
			return -EINVAL;
		if (n && val >= cfg->quota_warnings[n - 1])
			return fail(p, "quota_warnings: give the seconds in "
				       "descending order");
		cfg->quota_warnings[n++] = val;
	}
	cfg->n_quota_warnings = n;
	return 0;
}

/* A header value that cannot break the message: printable ASCII. */
static int set_server_header(struct parse *p, struct cfg *cfg, const char *v)
{
	for (const char *c = v; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return fail(p, "server_header: printable ASCII only");
	cfg->server_header_set = true;
	return set_str(p, "server_header", v, cfg->server_header,
		       sizeof(cfg->server_header));
}

static int set_choice(struct parse *p, const char *key, const char *v,
		      const char *const *names, unsigned n, int *dst)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(v, names[i]) == 0) {
			*dst = (int)i;
			return 0;
		}
	return fail(p, "%s: '%s' is not one of the choices", key, v);
}

static int apply(struct parse *p, struct cfg *cfg, const char *key,
		 const char *v)
{
	static const char *const grab[] = {"ask", "free"};
	static const char *const lost[] = {"promote", "end"};
	static const char *const admit[] = {"none", "friends"};
	static const char *const levels[] = {"error", "warn", "notice", "info",
					     "debug"};
	static const int level_values[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE,
					   LOG_INFO, LOG_DEBUG};
	int choice = 0, err;

#define STR(name)                                                              \
	if (strcmp(key, #name) == 0)                                           \
	return set_str(p, key, v, cfg->name, sizeof(cfg->name))
	STR(listen);
	STR(domain);
	STR(factory_user);
	STR(db);
	STR(lineup);
	STR(guide);
	STR(timezone);
	STR(media_addr);
	STR(control_socket);
	STR(slate_ts);
	STR(metrics_listen);
	STR(node_uri);
	STR(auth_realm);
#undef STR
	if (strcmp(key, "server_header") == 0)
		return set_server_header(p, cfg, v);
	if (strcmp(key, "node_id") == 0) {
		/* it travels in NOTIFY payloads split at spaces */
		if (strspn(v, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		    strlen(v))
			return fail(p,
				    "node_id: letters, digits, '-', '_' "
				    "and '.' only, got '%s'",
				    v);
		return set_str(p, key, v, cfg->node_id, sizeof(cfg->node_id));
	}
	if (strcmp(key, "lease_time") == 0)
		return set_uint(p, key, v, 3, 300, &cfg->lease_time);
	if (strcmp(key, "trusted_peers") == 0)
		return set_peers(p, cfg, v);
	if (strcmp(key, "trust_loopback_from") == 0)
		return set_bool(p, key, v, &cfg->trust_loopback_from);
	if (strcmp(key, "instant_change") == 0)
		return set_bool(p, key, v, &cfg->instant_change);
	if (strcmp(key, "member_notices") == 0)
		return set_bool(p, key, v, &cfg->member_notices);
	if (strcmp(key, "log_syslog") == 0)
		return set_bool(p, key, v, &cfg->log_syslog);
	if (strcmp(key, "admission_timeout") == 0)
		return set_uint(p, key, v, 1, 86400, &cfg->admission_timeout);
	if (strcmp(key, "host_grace") == 0)
		return set_uint(p, key, v, 0, 86400, &cfg->host_grace);
	if (strcmp(key, "session_expires") == 0) {
		err = set_uint(p, key, v, 0, 86400, &cfg->session_expires);
		/* RFC 4028 §4: Min-SE is at least 90 seconds. */
		if (!err && cfg->session_expires && cfg->session_expires < 90)
			return fail(p, "%s: must be 0 (off) or at least 90",
				    key);
		return err;
	}
	if (strcmp(key, "digest_algorithms") == 0)
		return set_digest(p, cfg, v);
	if (strcmp(key, "nonce_lifetime") == 0)
		return set_uint(p, key, v, 10, 86400, &cfg->nonce_lifetime);
	if (strcmp(key, "rate_limit") == 0)
		return set_uint(p, key, v, 0, 100000, &cfg->rate_limit);
	if (strcmp(key, "rate_burst") == 0)
		return set_uint(p, key, v, 1, 1000000, &cfg->rate_burst);
	if (strcmp(key, "rate_limit_trusted") == 0)
		return set_uint(p, key, v, 0, 1000000,
				&cfg->rate_limit_trusted);
	if (strcmp(key, "auth_failures") == 0)
		return set_uint(p, key, v, 0, 1000, &cfg->auth_failures);
	if (strcmp(key, "auth_lockout") == 0)
		return set_uint(p, key, v, 1, 86400, &cfg->auth_lockout);
	if (strcmp(key, "auth_lockout_max") == 0)
		return set_uint(p, key, v, 1, 86400, &cfg->auth_lockout_max);
	if (strcmp(key, "max_body") == 0)
		return set_uint(p, key, v, 16, 65536, &cfg->max_body);
	if (strcmp(key, "comment_history") == 0)
		return set_uint(p, key, v, 0, 100, &cfg->comment_history);
	if (strcmp(key, "notify_interval") == 0)
		return set_uint(p, key, v, 0, 60000, &cfg->notify_interval);
	if (strcmp(key, "service_cache_size") == 0)
		return set_uint(p, key, v, 0, 10000000,
				&cfg->service_cache_size);
	if (strcmp(key, "service_cache_ttl") == 0)
		return set_uint(p, key, v, 1, 86400, &cfg->service_cache_ttl);
	if (strcmp(key, "reinvite_window") == 0)
		return set_uint(p, key, v, 1, 100000, &cfg->reinvite_window);
	if (strcmp(key, "reinvite_window_max") == 0)
		return set_uint(p, key, v, 1, 100000,
				&cfg->reinvite_window_max);
	if (strcmp(key, "max_loop_lag") == 0)
		return set_uint(p, key, v, 10, 60000, &cfg->max_loop_lag);
	if (strcmp(key, "db_queue_soft") == 0)
		return set_uint(p, key, v, 1, 10000000, &cfg->db_queue_soft);
	if (strcmp(key, "db_queue_hard") == 0)
		return set_uint(p, key, v, 1, 10000000, &cfg->db_queue_hard);
	if (strcmp(key, "db_max_age") == 0)
		return set_uint(p, key, v, 10, 600000, &cfg->db_max_age);
	if (strcmp(key, "queue_delay_target") == 0)
		return set_uint(p, key, v, 0, 60000, &cfg->queue_delay_target);
	if (strcmp(key, "quota_warnings") == 0)
		return set_warnings(p, cfg, v);
	if (strcmp(key, "book_interval") == 0)
		return set_uint(p, key, v, 1, 3600, &cfg->book_interval);
	if (strcmp(key, "rtp_port_min") == 0)
		return set_uint(p, key, v, 1024, 65534, &cfg->rtp_port_min);
	if (strcmp(key, "rtp_port_max") == 0)
		return set_uint(p, key, v, 1025, 65535, &cfg->rtp_port_max);
	if (strcmp(key, "grab_policy") == 0) {
		err = set_choice(p, key, v, grab, 2, &choice);
		cfg->grab_policy =
		    err ? cfg->grab_policy : (enum cfg_grab_policy)choice;
		return err;
	}
	if (strcmp(key, "host_lost") == 0) {
		err = set_choice(p, key, v, lost, 2, &choice);
		cfg->host_lost =
		    err ? cfg->host_lost : (enum cfg_host_lost)choice;
		return err;
	}
	if (strcmp(key, "auto_admit") == 0) {
		err = set_choice(p, key, v, admit, 2, &choice);
		cfg->auto_admit =
		    err ? cfg->auto_admit : (enum cfg_auto_admit)choice;
		return err;
	}
	if (strcmp(key, "log_level") == 0) {
		err = set_choice(p, key, v, levels, 5, &choice);
		if (!err)
			cfg->log_level = level_values[choice];
		return err;
	}
	return fail(p, "unknown option '%s'", key);
}

/* @a err is written through p.err, an initializer that the check does
 * not follow.  NOLINTNEXTLINE(readability-non-const-parameter) */
int cfg_parse(struct cfg *cfg, const char *text, size_t len, char *err,
	      size_t errlen)
{
	struct parse p = {.line = 0, .err = err, .errlen = errlen};
	const char *s = text, *end = text + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		char line[1024], *k, *v, *eq, *t;
		size_t n = (size_t)(e - s);
		int rc;

		p.line++;
		if (n >= sizeof(line))
			return fail(&p, "the line is too long");
		memcpy(line, s, n);
		line[n] = '\0';
		s = nl ? nl + 1 : end;
		if (memchr(line, '\0', n))
			return fail(&p, "NUL byte in the line");
		/* comments: the whole line, or after white space */
		for (t = line; *t; t++)
			if (*t == '#' &&
			    (t == line || t[-1] == ' ' || t[-1] == '\t')) {
				*t = '\0';
				break;
			}
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		t = k + strlen(k);
		while (t > k &&
		       (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
			*--t = '\0';
		if (!*k)
			continue;
		eq = strchr(k, '=');
		if (!eq)
			return fail(&p, "expected 'key = value', got '%s'", k);
		for (t = eq; t > k && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		*t = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			v++;
		}
		rc = apply(&p, cfg, k, v);
		if (rc < 0)
			return rc;
	}
	if (cfg->rtp_port_min >= cfg->rtp_port_max)
		return fail(&p, "rtp_port_min must be below rtp_port_max");
	if (cfg->auth_lockout > cfg->auth_lockout_max)
		return fail(&p, "auth_lockout must not exceed "
				"auth_lockout_max");
	return 0;
}

/* A relative path in the file is relative to the file's folder. */
static void resolve(char *path, size_t size, const char *base)
{
	const char *slash = strrchr(base, '/');
	char joined[1024];

	if (!path[0] || path[0] == '/' || !slash)
		return;
	snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - base), base,
		 path);
	if (strlen(joined) < size)
		strcpy(path, joined);
}

int cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen)
{
	char lineup[sizeof(cfg->lineup)], guide[sizeof(cfg->guide)];
	char control[sizeof(cfg->control_socket)];
	char slate[sizeof(cfg->slate_ts)];
	char *text;
	size_t len;
	int rc = textfile_read(path, 1 << 20, &text, &len, err, errlen);

	if (rc < 0)
		return rc;
	strcpy(lineup, cfg->lineup);
	strcpy(guide, cfg->guide);
	strcpy(control, cfg->control_socket);
	strcpy(slate, cfg->slate_ts);
	rc = cfg_parse(cfg, text, len, err, errlen);
	free(text);
	if (rc == 0) {
		if (strcmp(lineup, cfg->lineup) != 0)
			resolve(cfg->lineup, sizeof(cfg->lineup), path);
		if (strcmp(guide, cfg->guide) != 0)
			resolve(cfg->guide, sizeof(cfg->guide), path);
		if (strcmp(slate, cfg->slate_ts) != 0)
			resolve(cfg->slate_ts, sizeof(cfg->slate_ts), path);
		if (strcmp(control, cfg->control_socket) != 0)
			resolve(cfg->control_socket,
				sizeof(cfg->control_socket), path);
	}
	return rc;
}

const char *cfg_realm(const struct cfg *cfg)
{
	return cfg->auth_realm[0] ? cfg->auth_realm : cfg->domain;
}

bool cfg_listen_is_loopback(const struct cfg *cfg)
{
	const char *h = strchr(cfg->listen, ':'), *end;
	unsigned char a[sizeof(struct in6_addr)];
	char host[INET6_ADDRSTRLEN + 1];

	/* sip:HOST[:PORT][;params] or sip:[IPv6][:PORT]... */
	if (!h)
		return false;
	h++;
	if (*h == '[')
		end = strchr(++h, ']');
	else
		end = h + strcspn(h, ":;");
	if (!end || end == h || (size_t)(end - h) >= sizeof(host))
		return false;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, host, a) == 1 &&
	       memcmp(a, &in6addr_loopback, sizeof(in6addr_loopback)) == 0;
}

const char *cfg_server_header(const struct cfg *cfg)
{
	if (cfg->server_header_set)
		return cfg->server_header;
	return cfg_listen_is_loopback(cfg) ? "tvspace/" TVSPACE_VERSION
					   : "tvspace";
}

bool cfg_is_trusted_peer(const struct cfg *cfg, const char *addr)
{
	unsigned char a[sizeof(struct in6_addr)], b[sizeof(struct in6_addr)];
	int fa = AF_INET;

	if (inet_pton(AF_INET, addr, a) != 1) {
		fa = AF_INET6;
		if (inet_pton(AF_INET6, addr, a) != 1)
			return false;
	}
	for (unsigned i = 0; i < cfg->n_trusted_peers; i++) {
		if (inet_pton(fa, cfg->trusted_peers[i], b) != 1)
			continue;
		if (memcmp(a, b, fa == AF_INET ? 4 : 16) == 0)
			return true;
	}
	return false;
}

void cfg_apply_timezone(const struct cfg *cfg)
{
	if (cfg->timezone[0])
		setenv("TZ", cfg->timezone, 1);
	tzset();
}

long long cfg_day_start(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1; /* the zone knows whether midnight is DST */
	return (long long)mktime(&tm);
}

void cfg_day_name(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	if (!strftime(buf, len, "%Y-%m-%d", &tm))
		buf[0] = '\0'; /* else undefined: no room */
}
