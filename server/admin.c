/* The control socket and the metrics endpoint: see admin.h.
 *
 * Both are local, small and on the loop: a connection is read until its
 * request is whole (a line; an HTTP header), answered from the live state
 * into a buffer, written as the socket takes it, and closed.  A connection
 * that says nothing for CONN_IDLE_MS is closed; at most MAX_CONNS are open
 * at once, and a request longer than REQ_MAX is refused. */
#define LOG_MODULE      "admin"
#define SU_TIMER_ARG_T  void
#define SU_WAKEUP_ARG_T void

#include "server/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su_string.h>
#include <sofia-sip/su_time.h>

#include "db/db.h"
#include "db/store.h"
#include "media/media.h"
#include "server/catalog.h"
#include "server/guard.h"
#include "server/log.h"
#include "server/space.h"
#include "server/stats.h"
#include "sip/sipua.h"

#define REQ_MAX 2048
/* `services` without an id lists this many at most: the store answers it
 * on the connection every commit uses (about 40 ms for 1,000). */
#define SERVICES_MAX 1000
#define MAX_CONNS    16
#define CONN_IDLE_MS 5000

enum conn_kind { CONN_CONTROL, CONN_HTTP };

/* A connection is malloc'd, not in the admin's home: one waiting for the
 * store (`services`) is the store's until its completion, which frees it
 * when the connection was closed meanwhile, even after admin_destroy(). */
struct conn {
	struct conn *next;
	struct admin *a;
	enum conn_kind kind;
	int fd, reg;
	su_timer_t *idle;
	char req[REQ_MAX + 1];
	size_t len;
	char *out; /* the answer, malloc'd by open_memstream */
	size_t out_len, out_off;
	/* an answer that the store gives: its rows so far */
	bool waiting, closed;
	FILE *rows;
	char *rows_buf;
	size_t rows_len;
	unsigned n_rows;
	int json;
	char id[128]; /* the service asked for, "" for all */
};

struct listener {
	struct admin *a;
	enum conn_kind kind;
	int fd, reg;
};

struct admin {
	su_home_t *home;
	struct admin_deps deps;
	struct listener control, http;
	char *control_path;
	struct conn *conns;
	unsigned n_conns;
	su_time64_t started;
	struct db *db; /* services; the queue's metrics.  NULL: none yet */
};

/* -- answers --------------------------------------------------------------- */

/* Before the server is ready there is no space to list. */
static void each_space(struct admin *a, void (*fn)(void *, struct space *),
		       void *arg)
{
	if (a->deps.mgr)
		space_mgr_foreach(a->deps.mgr, fn, arg);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void stats_now(struct admin *a, struct stats_now *now)
{
	const struct catalog *cat =
	    a->deps.mgr ? space_mgr_catalog(a->deps.mgr) : NULL;

	memset(now, 0, sizeof(*now));
	now->version = a->deps.version;
	now->uptime = (double)(su_monotime(NULL) - a->started) / 1e9;
	now->channels = cat ? catalog_channel_count(cat) : 0;
	now->rtp_out = a->deps.media ? media_packets_out(a->deps.media) : 0;
	if (a->db) {
		now->db_queue = db_queue_len(a->db);
		now->db_oldest = db_oldest_age(a->db);
		now->db_overloaded = db_overloaded(a->db);
	}
	if (a->deps.ua) {
		struct sipua_load l;

		sipua_load(a->deps.ua, &l);
		now->loop_lag = l.loop_lag;
		now->sip_unread = l.sip_unread;
		now->overloaded = l.overloaded;
		now->admit_rate = l.admit_rate;
		now->admit_gated = l.admit_gated;
		now->sip_wait = l.sip_wait;
		now->cache_hits = l.cache_hits;
		now->cache_misses = l.cache_misses;
		now->cache_evictions = l.cache_evictions;
		now->cache_entries = l.cache_entries;
		now->cache_capacity = l.cache_capacity;
	}
}

static void count_space(void *arg, struct space *sp)
{
	struct stats_now *now = arg;

	now->spaces++;
	for (const struct space_member *m = space_members(sp); m; m = m->next)
		now->members[m->role][m->delivery]++;
}

static const char *media_name(const struct channel *ch)
{
	return ch->media == CHANNEL_AUDIO ? "audio" : "video";
}

struct listing {
	FILE *out;
	int json;
	bool first;
	int64_t now;
	uint64_t only; /* members of this space, 0 for all */
};

static void space_line(void *arg, struct space *sp)
{
	struct listing *l = arg;
	const struct channel *ch = space_channel(sp);
	const struct space_member *host = space_host(sp);
	const struct space_service *svc = space_service(sp);

	if (l->json) {
		fprintf(l->out, "%s{\"id\":%" PRIu64 ",\"channel\":",
			l->first ? "" : ",", space_id(sp));
		json_str(l->out, ch ? ch->id : "");
		fprintf(l->out, ",\"host\":");
		json_str(l->out, host ? host->user : "");
		fprintf(l->out, ",\"service\":");
		json_str(l->out, svc ? svc->id : "");
		fprintf(l->out,
			",\"members\":%u,\"capacity\":%u,\"open\":%s,"
			"\"played_s\":%u}",
			space_count(sp), space_capacity(sp),
			space_is_open(sp) ? "true" : "false",
			space_played(sp, l->now));
	}
	else {
		fprintf(l->out, "%-8" PRIu64 " %-12s %-16s %3u/%-4u %-6s %u\n",
			space_id(sp), ch ? ch->id : "-",
			host ? host->user : "-", space_count(sp),
			space_capacity(sp), space_is_open(sp) ? "open" : "ask",
			space_played(sp, l->now));
	}
	l->first = false;
}

static void member_lines(void *arg, struct space *sp)
{
	struct listing *l = arg;

	if (l->only && space_id(sp) != l->only)
		return;
	for (const struct space_member *m = space_members(sp); m; m = m->next) {
		if (l->json) {
			fprintf(l->out, "%s{\"space\":%" PRIu64 ",\"user\":",
				l->first ? "" : ",", space_id(sp));
			json_str(l->out, m->user);
			fprintf(l->out,
				",\"role\":\"%s\",\"mode\":\"%s\","
				"\"service\":",
				space_role_str(m->role),
				space_delivery_str(m->delivery));
			json_str(l->out, m->service ? m->service : "");
			fprintf(l->out, ",\"seq\":%u,\"since\":%" PRId64 "}",
				m->seq, m->since);
		}
		else {
			fprintf(l->out, "%-8" PRIu64 " %-16s %-8s %-10s %s\n",
				space_id(sp), m->user, space_role_str(m->role),
				space_delivery_str(m->delivery),
				m->service ? m->service : "-");
		}
		l->first = false;
	}
}

static int cmd_channels(struct admin *a, FILE *out, int json)
{
	const struct catalog *cat =
	    a->deps.mgr ? space_mgr_catalog(a->deps.mgr) : NULL;
	unsigned n = cat ? catalog_channel_count(cat) : 0;

	fputs(json ? "ok\n["
		   : "ok\nNO  ID           NAME                 MEDIA "
		     " PT  GROUP             SOURCE\n",
	      out);
	for (unsigned i = 0; i < n; i++) {
		const struct channel *ch = catalog_channel_at(cat, i);

		if (json) {
			fprintf(out, "%s{\"number\":%u,\"id\":", i ? "," : "",
				ch->number);
			json_str(out, ch->id);
			fprintf(out, ",\"name\":");
			json_str(out, ch->name);
			fprintf(out, ",\"media\":\"%s\",\"pt\":%u,\"group\":",
				media_name(ch), ch->pt);
			json_str(out, ch->group ? ch->group : "");
			fprintf(out, ",\"port\":%u,\"generate\":", ch->port);
			json_str(out, ch->generate ? ch->generate : "");
			fputc('}', out);
		}
		else {
			fprintf(out, "%-3u %-12s %-20s %-6s %-3u %s:%-6u %s\n",
				ch->number, ch->id, ch->name, media_name(ch),
				ch->pt, ch->group ? ch->group : "-", ch->port,
				ch->generate ? ch->generate : "multicast feed");
		}
	}
	if (json)
		fputs("]\n", out);
	return 0;
}

static int refuse(FILE *out, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(FILE *out, int error, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	return error;
}

static bool parse_id(const char *s, uint64_t *id)
{
	char *end;

	if (!s)
		return false;
	if (strncmp(s, "space-", 6) == 0)
		s += 6;
	errno = 0;
	*id = strtoull(s, &end, 10);
	return !errno && end != s && !*end && *id;
}

/* Split a command line into at most 4 words (in @a buf) and --json; -1
 * when there are more. */
static int split_line(const char *line, char *buf, size_t len, char *argv[4],
		      int *ret_json)
{
	char *save = NULL, *tok;
	int argc = 0;

	*ret_json = 0;
	snprintf(buf, len, "%s", line);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (strcmp(tok, "--json") == 0)
			*ret_json = 1;
		else if (argc < 4)
			argv[argc++] = tok;
		else
			return -1;
	}
	return argc;
}

/* `services [ID]` is answered from the store (conn_services()); here only
 * what refuses it. */
static int cmd_services(struct admin *a, int argc, char **argv, FILE *out)
{
	if (argc > 2)
		return refuse(out, -EINVAL, "%s",
			      "services: give one service id, or none");
	if (argc == 2 && strlen(argv[1]) >= sizeof(((struct conn *)0)->id))
		return refuse(out, -EINVAL, "%s",
			      "services: the service id is too long");
	if (!a->db || !db_is_up(a->db))
		return refuse(out, -ENOTCONN, "%s",
			      "the database is not connected");
	if (db_overloaded(a->db))
		return refuse(out, -EBUSY, "%s",
			      "the database is overloaded; try again");
	return refuse(out, -EINVAL, "%s",
		      "services: ask through the control socket");
}

/* -- failed authentications (server/guard.h) ------------------------------ */

struct auth_listing {
	FILE *out;
	int json;
	bool first;
};

static void auth_line(void *arg, const struct guard_entry *e)
{
	struct auth_listing *l = arg;

	if (!l->json) {
		fprintf(l->out, "%-16s %-16s %8u %8u %8u  %s\n", e->user,
			e->source[0] ? e->source : "*", e->failures, e->locked,
			e->since, e->last_src[0] ? e->last_src : "-");
		return;
	}
	fputs(l->first ? "{\"user\":" : ",{\"user\":", l->out);
	l->first = false;
	json_str(l->out, e->user);
	fputs(",\"source\":", l->out);
	if (e->source[0])
		json_str(l->out, e->source);
	else
		fputs("null", l->out);
	fprintf(l->out,
		",\"failures\":%u,\"locked_s\":%u,\"last_failure_s\":%u,"
		"\"last_from\":",
		e->failures, e->locked, e->since);
	json_str(l->out, e->last_src);
	fputc('}', l->out);
}

/* `auth-failures`: every user whose failures are counted, most recent
 * first; SOURCE is one of the user's known sources, or * for all others. */
static int cmd_auth_failures(struct admin *a, FILE *out, int json)
{
	struct guard_policy pol;
	struct guard *g = sipua_guard(a->deps.ua, &pol);
	struct auth_listing l = {.out = out, .json = json, .first = true};

	if (!g)
		return refuse(out, -EAGAIN, "%s", "starting: no SIP yet");
	fputs(json ? "ok\n["
		   : "ok\nUSER             SOURCE           FAILURES LOCKED_S "
		     "  LAST_S  LAST_FROM\n",
	      out);
	guard_list(g, &pol, sipua_guard_now(), auth_line, &l);
	if (json)
		fputs("]\n", out);
	return 0;
}

/* `auth-clear USER`: the user may try again from anywhere at once. */
static int cmd_auth_clear(struct admin *a, FILE *out, int json,
			  const char *user)
{
	struct guard_policy pol;
	struct guard *g = sipua_guard(a->deps.ua, &pol);
	unsigned n;

	if (!user)
		return refuse(out, -EINVAL, "%s", "auth-clear: give a user");
	if (!g)
		return refuse(out, -EAGAIN, "%s", "starting: no SIP yet");
	n = guard_clear(g, user);
	if (!n)
		return refuse(out, -ENOENT, "no failed authentication of %s",
			      user);
	log_notice("digest: failed authentications of user %s cleared by "
		   "the operator",
		   user);
	if (json) {
		fputs("ok\n{\"cleared\":", out);
		json_str(out, user);
		fprintf(out, ",\"counts\":%u}\n", n);
	}
	else {
		fprintf(out, "ok\n%s: %u count%s cleared\n", user, n,
			n == 1 ? "" : "s");
	}
	return 0;
}

int admin_command(struct admin *a, const char *line, FILE *out)
{
	char buf[REQ_MAX + 1], *argv[4] = {0};
	int argc, json = 0;
	struct listing l = {.out = out,
			    .first = true,
			    .now = (int64_t)(su_monotime(NULL) / 1000000)};
	struct stats_now now;
	uint64_t id = 0;
	int rc;

	argc = split_line(line, buf, sizeof(buf), argv, &json);
	if (argc < 0)
		return refuse(out, -EINVAL, "%s", "too many words");
	l.json = json;
	if (!argc)
		return refuse(out, -EINVAL, "%s", "no command");
	if (strcmp(argv[0], "services") == 0)
		return cmd_services(a, argc, argv, out);
	if (!a->deps.mgr && strcmp(argv[0], "version") != 0 &&
	    strcmp(argv[0], "stats") != 0)
		return refuse(out, -EAGAIN, "%s",
			      "starting: the database is not loaded yet");
	if (strcmp(argv[0], "version") == 0) {
		if (json)
			fprintf(out, "ok\n{\"version\":\"%s\"}\n",
				a->deps.version);
		else
			fprintf(out, "ok\ntvspaced %s\n", a->deps.version);
		return 0;
	}
	if (strcmp(argv[0], "stats") == 0) {
		stats_now(a, &now);
		each_space(a, count_space, &now);
		fputs("ok\n", out);
		stats_report(out, &now, json);
		return 0;
	}
	if (strcmp(argv[0], "spaces") == 0) {
		fputs(json ? "ok\n["
			   : "ok\nSPACE    CHANNEL      HOST             "
			     "MEMBERS  ADMIT  PLAYED_S\n",
		      out);
		each_space(a, space_line, &l);
		if (json)
			fputs("]\n", out);
		return 0;
	}
	if (strcmp(argv[0], "members") == 0 || strcmp(argv[0], "show") == 0) {
		bool show = argv[0][0] == 's';

		if ((show || argv[1]) && !parse_id(argv[1], &id))
			return refuse(out, -EINVAL, "%s: give a space id",
				      argv[0]);
		if (id && !space_find(a->deps.mgr, id))
			return refuse(out, -ENOENT, "no live space %s",
				      argv[1]);
		l.only = id;
		fputs("ok\n", out);
		if (show) {
			/* The space, then its members. */
			struct listing one = l;

			if (json)
				fputs("{\"space\":", out);
			else
				fputs("SPACE    CHANNEL      HOST             "
				      "MEMBERS  ADMIT  PLAYED_S\n",
				      out);
			space_line(&one, space_find(a->deps.mgr, id));
			fputs(json ? ",\"members\":[" : "\n", out);
		}
		else if (json) {
			fputc('[', out);
		}
		if (!json)
			fputs("SPACE    USER             ROLE     MODE       "
			      "SERVICE\n",
			      out);
		each_space(a, member_lines, &l);
		if (json)
			fputs(show ? "]}\n" : "]\n", out);
		return 0;
	}
	if (strcmp(argv[0], "channels") == 0)
		return cmd_channels(a, out, json);
	if (strcmp(argv[0], "end") == 0) {
		if (!parse_id(argv[1], &id))
			return refuse(out, -EINVAL, "%s",
				      "end: give a space id");
		rc = sipua_end_space(a->deps.ua, id,
				     "space ended by the operator");
		if (rc < 0)
			return refuse(out, rc, "no live space %s", argv[1]);
		log_notice("space-%" PRIu64 " ended by the operator", id);
		fprintf(out,
			json ? "ok\n{\"ended\":%" PRIu64 "}\n"
			     : "ok\nspace-%" PRIu64 " ended\n",
			id);
		return 0;
	}
	if (strcmp(argv[0], "kick") == 0) {
		if (!parse_id(argv[1], &id) || !argv[2])
			return refuse(out, -EINVAL, "%s",
				      "kick: give a space id and a user");
		rc = sipua_kick(a->deps.ua, id, argv[2]);
		if (rc == -EPERM)
			return refuse(out, rc,
				      "%s is the host: end the space instead",
				      argv[2]);
		if (rc < 0)
			return refuse(out, rc, "no member %s there", argv[2]);
		fprintf(out,
			json ? "ok\n{\"removed\":\"%s\"}\n"
			     : "ok\n%s removed\n",
			argv[2]);
		return 0;
	}
	if (strcmp(argv[0], "auth-failures") == 0)
		return cmd_auth_failures(a, out, json);
	if (strcmp(argv[0], "auth-clear") == 0)
		return cmd_auth_clear(a, out, json, argv[1]);
	if (strcmp(argv[0], "reload") == 0) {
		if (!a->deps.reload || a->deps.reload(a->deps.arg) < 0)
			return refuse(out, -EBUSY, "%s",
				      "not now (a reload under way, or "
				      "starting); see the log");
		fputs(json ? "ok\n{\"reload\":\"started\"}\n"
			   : "ok\nreloading the lineup, guide and services; "
			     "the log says when done\n",
		      out);
		return 0;
	}
	return refuse(out, -EINVAL,
		      "unknown command '%s' (version, stats, spaces, members, "
		      "show, services, channels, end, kick, auth-failures, "
		      "auth-clear, reload)",
		      argv[0]);
}

static void http_answer(struct admin *a, const char *req, FILE *out)
{
	char *body = NULL;
	size_t len = 0;
	FILE *b = open_memstream(&body, &len);
	const char *status = "200 OK";
	const char *type = "text/plain; version=0.0.4; charset=utf-8";
	struct stats_now now;

	if (!b)
		return;
	if (strncmp(req, "GET /metrics ", 13) == 0 ||
	    strncmp(req, "GET /metrics?", 13) == 0) {
		stats_now(a, &now);
		each_space(a, count_space, &now);
		stats_prometheus(b, &now);
	}
	else if (strncmp(req, "GET ", 4) == 0) {
		status = "404 Not Found";
		type = "text/plain; charset=utf-8";
		fputs("tvspace: the metrics are at /metrics\n", b);
	}
	else {
		status = "405 Method Not Allowed";
		type = "text/plain; charset=utf-8";
		fputs("tvspace: GET /metrics\n", b);
	}
	if (fclose(b) != 0) {
		/* out of memory: the body is not whole, and not sent */
		free(body);
		fputs("HTTP/1.0 500 Internal Server Error\r\n"
		      "Content-Length: 0\r\nConnection: close\r\n\r\n",
		      out);
		return;
	}
	fprintf(out,
		"HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		status, type, len);
	/* out is a memory stream: its error shows at its fclose */
	(void)fwrite(body, 1, len, out);
	free(body);
}

/* -- connections ----------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (c->rows)
		(void)fclose(c->rows); /* its rows are not wanted */
	free(c->rows_buf);
	free(c->out);
	free(c);
}

static void conn_close(struct conn *c)
{
	struct admin *a = c->a;
	struct conn **pp;

	for (pp = &a->conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	a->n_conns--;
	if (c->reg > 0)
		su_root_deregister(a->deps.root, c->reg);
	c->reg = 0;
	close(c->fd);
	su_timer_destroy(c->idle);
	c->idle = NULL;
	c->a = NULL;
	if (c->waiting)
		c->closed = true; /* the store's completion frees it */
	else
		conn_free(c);
}

/* The answer is in c->out: send it as the socket takes it. */
static void conn_send(struct conn *c)
{
	su_root_eventmask(c->a->deps.root, c->reg, c->fd, SU_WAIT_OUT);
}

/* -- services: the answer comes from the store ----------------------------- */

static void json_num_or_null(FILE *out, const char *key, int64_t v)
{
	if (v)
		fprintf(out, ",\"%s\":%" PRId64, key, v);
	else
		fprintf(out, ",\"%s\":null", key);
}

static void json_key_str(FILE *out, const char *key, const char *s)
{
	fprintf(out, ",\"%s\":", key);
	if (s)
		json_str(out, s);
	else
		fputs("null", out);
}

static void status_row(void *arg, const struct store_service_status *st)
{
	struct conn *c = arg;
	FILE *out = c->rows;

	if (!out || c->n_rows++ >= SERVICES_MAX)
		return;
	if (c->json) {
		fprintf(out, "%s{\"service\":", c->n_rows > 1 ? "," : "");
		json_str(out, st->id);
		json_key_str(out, "user", st->user);
		fprintf(out, ",\"level\":%u", st->level);
		json_key_str(out, "level_name", st->level_name);
		fprintf(out,
			",\"capacity\":%u,\"daily_limit_s\":%u,\"played_s\":%u,"
			"\"booked_s\":%u,\"members\":%u,\"live_spaces\":%u",
			st->capacity, st->daily_limit, st->played, st->booked,
			st->members, st->live_spaces);
		json_num_or_null(out, "space", (int64_t)st->space_id);
		json_key_str(out, "channel", st->channel);
		json_key_str(out, "programme", st->programme);
		json_num_or_null(out, "programme_start", st->programme_start);
		json_num_or_null(out, "programme_stop", st->programme_stop);
		json_key_str(out, "node", st->node);
		fputc('}', out);
	}
	else {
		char space[24] = "-";
		const char *title = st->programme ? st->programme : "-";

		if (st->space_id)
			snprintf(space, sizeof(space), "%" PRIu64,
				 st->space_id);
		/* the patent's columns first; the programme's title, which
		 * has spaces, last */
		fprintf(out, "%-16s %-16s %-5u %-8u %-8u %-8u %-7u %-8s %-12s ",
			st->id, st->user ? st->user : "-", st->level,
			st->capacity, st->daily_limit, st->played, st->members,
			space, st->channel ? st->channel : "-");
		/* the guide's words, on one line whatever they hold */
		for (; *title; title++)
			fputc((unsigned char)*title < 0x20 ? ' ' : *title, out);
		fputc('\n', out);
	}
}

static void status_done(void *arg, int error)
{
	struct conn *c = arg;
	FILE *out;

	c->waiting = false;
	/* Closing the memory stream writes its last rows: failing, it leaves
	 * them out, and the answer would be short. */
	if (c->rows && fclose(c->rows) != 0 && !error)
		error = -ENOMEM;
	c->rows = NULL;
	if (c->closed) {
		conn_free(c);
		return;
	}
	out = open_memstream(&c->out, &c->out_len);
	if (!out) {
		conn_close(c);
		return;
	}
	if (error)
		refuse(out, error, "the database could not answer (%s)",
		       strerror(-error));
	else if (c->id[0] && !c->n_rows)
		refuse(out, -ENOENT, "no service %s", c->id);
	else if (c->json)
		fprintf(out, "ok\n[%.*s]\n", (int)c->rows_len,
			c->rows_buf ? c->rows_buf : "");
	else
		fprintf(out,
			"ok\nSERVICE          USER             LEVEL CAPACITY "
			"LIMIT_S  PLAYED_S MEMBERS SPACE    CHANNEL      "
			"PROGRAMME\n%.*s%s",
			(int)c->rows_len, c->rows_buf ? c->rows_buf : "",
			c->n_rows > SERVICES_MAX
			    ? "(the first 1000: ask for one service, or "
			      "query the view service_status)\n"
			    : "");
	if (fclose(out) != 0) {
		conn_close(c); /* out of memory: no answer rather than half */
		return;
	}
	conn_send(c);
}

/* `services [ID]`: true when the store was asked, the answer then written
 * by status_done(); false when admin_command() answers (it refuses). */
static bool conn_services(struct conn *c)
{
	struct admin *a = c->a;
	char buf[REQ_MAX + 1], *argv[4] = {0};
	int argc = split_line(c->req, buf, sizeof(buf), argv, &c->json), err;

	if (argc < 1 || argc > 2 || strcmp(argv[0], "services") != 0 ||
	    !a->db || !db_is_up(a->db) || db_overloaded(a->db) ||
	    (argc == 2 && strlen(argv[1]) >= sizeof(c->id)))
		return false;
	snprintf(c->id, sizeof(c->id), "%s", argc == 2 ? argv[1] : "");
	c->rows = open_memstream(&c->rows_buf, &c->rows_len);
	if (!c->rows)
		return false;
	c->waiting = true;
	err =
	    store_service_status(a->db, c->id[0] ? c->id : NULL,
				 SERVICES_MAX + 1, status_row, status_done, c);
	if (err < 0) {
		status_done(c, err); /* the refusal, now */
		return true;
	}
	/* Nothing more is read (tvspacectl has shut its side: the socket
	 * would be readable for ever) until the answer goes out. */
	su_root_eventmask(a->deps.root, c->reg, c->fd, 0);
	return true;
}

static void conn_idle(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	conn_close(arg);
}

static bool request_whole(const struct conn *c)
{
	return c->kind == CONN_CONTROL
		   ? memchr(c->req, '\n', c->len) != NULL
		   : strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n");
}

static void conn_answer(struct conn *c)
{
	FILE *out;

	if (c->kind == CONN_CONTROL) {
		*strchr(c->req, '\n') = '\0';
		if (conn_services(c))
			return; /* status_done() answers */
	}
	out = open_memstream(&c->out, &c->out_len);
	if (!out) {
		conn_close(c);
		return;
	}
	if (c->kind == CONN_CONTROL)
		admin_command(c->a, c->req, out);
	else
		http_answer(c->a, c->req, out);
	if (fclose(out) != 0) {
		conn_close(c); /* out of memory: no answer rather than half */
		return;
	}
	conn_send(c);
}

static int on_conn(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	if (c->out) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n > 0)
			c->out_off += (size_t)n;
		if ((n < 0 && errno != EAGAIN) || c->out_off == c->out_len)
			conn_close(c);
		return 0;
	}
	n = recv(c->fd, c->req + c->len, REQ_MAX - c->len, 0);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (request_whole(c))
		conn_answer(c);
	else if (c->len == REQ_MAX)
		conn_close(c); /* no command is that long */
	return 0;
}

static int on_listener(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct listener *li = arg;
	struct admin *a = li->a;
	struct conn *c;
	su_wait_t cw;
	int fd = accept4(li->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return 0;
	if (a->n_conns >= MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return 0;
	}
	c->a = a;
	c->kind = li->kind;
	c->fd = fd;
	c->next = a->conns;
	a->conns = c;
	a->n_conns++;
	c->idle = su_timer_create(su_root_task(a->deps.root), CONN_IDLE_MS);
	if (su_wait_create(&cw, fd, SU_WAIT_IN) == 0)
		c->reg = su_root_register(a->deps.root, &cw, on_conn, c, 0);
	if (c->reg <= 0 || !c->idle || su_timer_set(c->idle, conn_idle, c) < 0)
		conn_close(c);
	return 0;
}

/* -- listeners ------------------------------------------------------------- */

static int listen_on(struct admin *a, struct listener *li,
		     const struct sockaddr *sa, socklen_t len, char *err,
		     size_t errlen, const char *what)
{
	su_wait_t w;
	int one = 1;

	li->a = a;
	li->fd = socket(sa->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (li->fd < 0)
		goto fail;
	if (sa->sa_family == AF_INET)
		setsockopt(li->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(li->fd, sa, len) < 0 || listen(li->fd, 16) < 0)
		goto fail;
	if (su_wait_create(&w, li->fd, SU_WAIT_ACCEPT) < 0 ||
	    (li->reg =
		 su_root_register(a->deps.root, &w, on_listener, li, 0)) <= 0) {
		errno = EIO;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (li->fd >= 0)
		close(li->fd);
	li->fd = -1;
	return -1;
}

static int listen_control(struct admin *a, const char *path, char *err,
			  size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control_socket %s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* A socket left by a server that was killed goes; anything else
	 * at that path stays, and we say so. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "control_socket %s: exists and is not a "
				 "socket",
				 path);
			return -1;
		}
		unlink(path);
	}
	/* Owner and group only: the socket can end anyone's space. */
	old = umask(007);
	rc = listen_on(a, &a->control, (struct sockaddr *)&sun, sizeof(sun),
		       err, errlen, path);
	umask(old);
	if (rc == 0)
		a->control_path = su_strdup(a->home, path);
	return rc;
}

static int listen_http(struct admin *a, const char *addr, char *err,
		       size_t errlen)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char host[64];
	const char *colon = strrchr(addr, ':');
	unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;

	if (!colon || (size_t)(colon - addr) >= sizeof(host) || !port ||
	    port > 65535) {
		snprintf(err, errlen, "metrics_listen %s: give HOST:PORT",
			 addr);
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		snprintf(err, errlen,
			 "metrics_listen %s: the host is an IPv4 address",
			 addr);
		return -1;
	}
	sin.sin_port = htons((uint16_t)port);
	return listen_on(a, &a->http, (struct sockaddr *)&sin, sizeof(sin), err,
			 errlen, addr);
}

struct admin *admin_create(su_home_t *home, const struct admin_deps *deps,
			   const char *control_path, const char *metrics_addr,
			   char *err, size_t errlen)
{
	struct admin *a = su_zalloc(home, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->home = home;
	a->deps = *deps;
	a->started = su_monotime(NULL);
	a->control = (struct listener){.a = a, .kind = CONN_CONTROL, .fd = -1};
	a->http = (struct listener){.a = a, .kind = CONN_HTTP, .fd = -1};
	if ((control_path[0] && listen_control(a, control_path, err, errlen)) ||
	    (metrics_addr[0] && listen_http(a, metrics_addr, err, errlen)))
		return admin_destroy(a);
	if (control_path[0])
		log_info("control socket %s", control_path);
	if (metrics_addr[0])
		log_info("metrics on http://%s/metrics", metrics_addr);
	return a;
}

static void listener_close(struct admin *a, struct listener *li)
{
	if (li->reg > 0)
		su_root_deregister(a->deps.root, li->reg);
	if (li->fd >= 0)
		close(li->fd);
	li->reg = 0;
	li->fd = -1;
}

void admin_set_db(struct admin *a, struct db *db)
{
	if (a)
		a->db = db;
}

void admin_attach(struct admin *a, struct space_mgr *mgr, struct sipua *ua)
{
	if (a) {
		a->deps.mgr = mgr;
		a->deps.ua = ua;
	}
}

struct admin *admin_destroy(struct admin *a)
{
	if (!a)
		return NULL;
	/* Each is unlinked and freed by conn_close(): the next one is
	 * taken before. */
	for (struct conn *c = a->conns, *next; c; c = next) {
		next = c->next;
		conn_close(c);
	}
	listener_close(a, &a->control);
	listener_close(a, &a->http);
	if (a->control_path)
		unlink(a->control_path);
	su_free(a->home, a->control_path);
	su_free(a->home, a);
	return NULL;
}
