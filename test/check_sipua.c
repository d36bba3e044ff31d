/* The SIP adapter at the nua level, as sofia-sip's own check_session.c
 * drives both ends on one root: the real adapter (sipua_create) with a real
 * space manager, a catalog from a small lineup, the real store on the test
 * cluster (TVSPACE_TEST_DB, a database of its own, migrated), media NULL
 * (multicast only), listening on loopback; and a sofia-sip client on the
 * same su_root that plays every party (hosts, joiners), stepping the loop
 * until a condition holds, always bounded.  A plain libpq connection of the
 * test holds a table locked inside an open transaction to keep a commit in
 * flight, and releases it with COMMIT.
 *
 * The orderings that break servers: CANCEL before, while, as and after a
 * start's commit lands; a joiner's CANCEL while and as its admission
 * commits, and against the host's /allow; the host ending while a joiner
 * is stored; BYE while our re-INVITE is unanswered; 408, 481 and 488 to a
 * switch re-INVITE; many joins and CANCELs while the members table is
 * locked and released.  Each checks the answers the client saw, the rows
 * left in the database and the core's members; AddressSanitizer (the test
 * build) checks the memory, each case in its own process (fork mode).
 *
 * White box: sipua_int.h gives the adapter's nua, for a short transaction
 * timeout (NTATAG_SIP_T1X64) where a test waits for a 408.  One case per
 * check TCase, named as its test: CK_RUN_CASE=NAME runs one, and
 * TVSPACE_CHECK_DEBUG=1 logs everything (sofia-sip's lines too). */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libpq-fe.h>
#include <sofia-sip/su.h>
#include <sofia-sip/sip_extra.h>

#include "db/db.h"
#include "db/store.h"
#include "server/catalog.h"
#include "server/cfg.h"
#include "server/lineup.h"
#include "server/log.h"
#include "server/space.h"
#include "sip/sipua.h"
#include "sip/sipua_int.h"

#include "check_run.h"

#define SRV_PORT 5180 /* the adapter */
#define SRV      "127.0.0.1:5180"
#define CLI      "127.0.0.1:5181" /* the client playing every party */
#define DBNAME   "tv_check_sipua"

/* The demo lineup's channels the tests use: news and sports are MP2T
 * video (PT 33), music PCMU (0) and kids PCMA (8) audio. */
static const char lineup[] =
    "#EXTM3U\n"
    "#EXTINF:-1 tvg-id=\"news\" tvg-name=\"Demo News\" tvg-chno=\"1\","
    "Demo News\n"
    "rtp://@232.10.0.1:5004\n"
    "#EXTINF:-1 tvg-id=\"sports\" tvg-name=\"Demo Sports\" "
    "tvg-chno=\"2\",Demo Sports\n"
    "rtp://@232.10.0.2:5004\n"
    "#EXTINF:-1 tvg-id=\"music\" tvg-name=\"Music Radio\" tvg-chno=\"4\" "
    "tvspace-media=\"audio\" tvspace-pt=\"0\",Music Radio\n"
    "rtp://@232.10.0.4:5004\n"
    "#EXTINF:-1 tvg-id=\"kids\" tvg-name=\"Kids Radio\" tvg-chno=\"5\" "
    "tvspace-media=\"audio\" tvspace-pt=\"8\",Kids Radio\n"
    "rtp://@232.10.0.5:5004\n";

static const char config[] =
    "listen = sip:" SRV "\n"
    "domain = tvspace.test\n"
    "trust_loopback_from = yes\n"
    "rate_limit = 0\n"
    "member_notices = no\n"
    /* One re-INVITE out at a time, a window that does not grow: a slot
     * a lost answer never gives back stops every later switch, which the
     * tests then see. */
    "reinvite_window = 1\n"
    "reinvite_window_max = 1\n"
    /* A commit held on purpose must not make the server refuse new
     * dialogs as overloaded (the stress case allows it). */
    "db_max_age = 60000\n"
    "max_loop_lag = 5000\n";

static const char offer_video[] = "v=0\r\n"
				  "o=- 1 1 IN IP4 127.0.0.1\r\n"
				  "s=-\r\n"
				  "c=IN IP4 232.10.0.1/16\r\n"
				  "t=0 0\r\n"
				  "m=video 5004 RTP/AVP 33\r\n"
				  "a=rtpmap:33 MP2T/90000\r\n"
				  "a=recvonly\r\n";

/* sofia-sip 1.12.11 (Debian 12's) keeps one reference too many on a
 * re-INVITE still waiting for its answer when its session ends
 * (nua_session_usage_remove; fixed in FreeSWITCH's sofia-sip in 2013,
 * FS-6005): the request and its signal are never freed, about 2.7 KB each
 * time.  bye_during_switch_reinvite makes exactly that happen: the member's
 * BYE ends the session while our re-INVITE to it is unanswered.  The
 * leak is the library's; only those two allocations are let through,
 * which takes whole stacks through the library (built without frame
 * pointers): the slow unwinder. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:nua_client_request_template\n"
	       "leak:send_reinvite\n";
}

/* -- the server's world ---------------------------------------------------- */

static su_home_t home[1];
static su_root_t *root;
static struct cfg cfg;
static struct catalog *cat;
static struct space_mgr *mgr;
static struct db *db;
static struct sipua *ua;
static nua_t *cli;
static char conninfo[600];
static PGconn *q;      /* the test's own queries */
static PGconn *locker; /* a lock held in an open transaction */
static bool cli_down, srv_down;
static int loaded;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void step_for(int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end)
		su_root_step(root, 5);
}

/* Step the loop until @a cond holds, for at most @a ms. */
#define STEP_UNTIL(cond, ms, ...)                                              \
	do {                                                                   \
		int64_t end_ = now_ms() + (ms);                                \
		while (!(cond) && now_ms() < end_)                             \
			su_root_step(root, 5);                                 \
		ck_assert_msg((cond), __VA_ARGS__);                            \
	} while (0)

/* -- the database, from the test's side (blocking: test code) ------------ */

static PGconn *connect_db(const char *info)
{
	PGconn *c = PQconnectdb(info);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void exec_on(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
			  PQresultStatus(r) == PGRES_TUPLES_OK,
		      "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

static int sql_int(const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	PGresult *r;
	int n;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	r = PQexec(q, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1,
		      "%s: %s", sql, PQerrorMessage(q));
	n = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static void sql_str(char *buf, size_t len, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	PGresult *r;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	r = PQexec(q, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
		      PQerrorMessage(q));
	snprintf(buf, len, "%s",
		 PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "(none)");
	PQclear(r);
}

/* Hold @a table locked (every statement on it waits) until unlock(). */
static void lock_table(const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "BEGIN; LOCK TABLE %s", table);
	exec_on(locker, sql);
}

static void unlock(void)
{
	exec_on(locker, "COMMIT");
}

/* Statements of the adapter's connection waiting on our lock. */
static int lock_waiters(void)
{
	return sql_int("SELECT count(*) FROM pg_stat_activity WHERE datname "
		       "= current_database() AND wait_event_type = 'Lock'");
}

/* Step until the store has nothing in flight or queued. */
static void store_idle(void)
{
	STEP_UNTIL(db_pending(db) == 0, 10000, "the store stays busy");
	step_for(50);
}

/* -- the parties: one sofia-sip client plays them all ---------------------- */

enum answer {
	ANSWER_OK,   /* 200 with an SDP answer */
	ANSWER_NONE, /* never answered (see contact_void) */
	ANSWER_481,
	ANSWER_488,
};

struct party {
	char user[32];
	nua_handle_t *nh;
	int provisional;   /* last 1xx to our INVITE */
	int invite_final;  /* final status of our INVITE, 0 while none */
	int n_ok;          /* 2xx to our INVITE */
	int cancel_status; /* the answer to our CANCEL */
	int bye_status;    /* the answer to our BYE */
	int msg_status;    /* the answer to our last MESSAGE */
	int n_msg_answers;
	enum answer answer; /* how its re-INVITEs are answered */
	int reinvites;      /* re-INVITEs from the server */
	char reinvite_sdp[1024];
	int byes_in; /* BYEs from the server */
	int messages_in;
	char messages[2048]; /* every MESSAGE text, one a line */
	bool terminated;
	bool cancel_sent;
};

#define MAX_PARTIES 80
static struct party parties[MAX_PARTIES];
static unsigned n_parties;

static struct party *party_new(const char *user)
{
	struct party *p;

	ck_assert_uint_lt(n_parties, MAX_PARTIES);
	p = &parties[n_parties++];
	memset(p, 0, sizeof(*p));
	snprintf(p->user, sizeof(p->user), "%s", user);
	return p;
}

static struct party *party_of(nua_handle_t *nh)
{
	for (unsigned i = 0; i < n_parties; i++)
		if (parties[i].nh == nh)
			return &parties[i];
	return NULL;
}

static void answer_reinvite(struct party *p, nua_handle_t *nh)
{
	switch (p->answer) {
	case ANSWER_OK:
		nua_respond(nh, SIP_200_OK,
			    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(offer_video), TAG_END());
		break;
	case ANSWER_481:
		nua_respond(nh, SIP_481_NO_TRANSACTION, TAG_END());
		break;
	case ANSWER_488:
		nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		break;
	case ANSWER_NONE:
		break;
	}
}

static void client_cb(nua_event_t event, int status, char const *phrase,
		      nua_t *nua, struct sipua *magic, nua_handle_t *nh,
		      struct call *hmagic, sip_t const *sip, tagi_t tags[])
{
	struct party *p = party_of(nh);
	int state = -1;

	if (event == nua_r_shutdown) {
		if (status >= 200)
			cli_down = true;
		return;
	}
	if (!p)
		return;
	switch (event) {
	case nua_r_invite:
		if (status < 200) {
			p->provisional = status;
			break;
		}
		if (!p->invite_final)
			p->invite_final = status;
		if (status < 300)
			p->n_ok++;
		break;
	case nua_r_cancel:
		p->cancel_status = status;
		break;
	case nua_r_bye:
		if (status >= 200)
			p->bye_status = status;
		break;
	case nua_r_message:
		if (status >= 200) {
			p->msg_status = status;
			p->n_msg_answers++;
		}
		break;
	case nua_i_invite:
		/* A re-INVITE of the server (our own INVITE is nua_r_). */
		p->reinvites++;
		if (sip && sip->sip_payload)
			snprintf(p->reinvite_sdp, sizeof(p->reinvite_sdp),
				 "%.*s", (int)sip->sip_payload->pl_len,
				 sip->sip_payload->pl_data);
		answer_reinvite(p, nh);
		break;
	case nua_i_bye:
		p->byes_in++;
		break;
	case nua_i_message:
		p->messages_in++;
		if (sip && sip->sip_payload) {
			size_t n = strlen(p->messages);

			snprintf(p->messages + n, sizeof(p->messages) - n,
				 "%.*s\n", (int)sip->sip_payload->pl_len,
				 sip->sip_payload->pl_data);
		}
		break;
	case nua_i_state:
		tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
		if (state == nua_callstate_terminated)
			p->terminated = true;
		break;
	default:
		break;
	}
	(void)phrase;
	(void)nua;
	(void)magic;
	(void)hmagic;
}

/* @a p dials @a target (share, space-N); with @a contact its Contact says
 * where the server's requests go. */
static void dial(struct party *p, const char *target, const char *contact)
{
	char url[128], from[128];

	snprintf(url, sizeof(url), "sip:%s@" SRV, target);
	snprintf(from, sizeof(from), "<sip:%s@127.0.0.1>", p->user);
	p->nh = nua_handle(cli, NULL, NUTAG_URL(url), SIPTAG_TO_STR(url),
			   SIPTAG_FROM_STR(from), TAG_END());
	ck_assert_ptr_nonnull(p->nh);
	nua_invite(p->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(offer_video),
		   TAG_IF(contact, SIPTAG_CONTACT_STR(contact)), TAG_END());
}

static void say(struct party *p, const char *text)
{
	p->msg_status = 0;
	nua_message(p->nh, SIPTAG_CONTENT_TYPE_STR("text/plain"),
		    SIPTAG_PAYLOAD_STR(text), TAG_END());
}

/* Say @a text and wait for its answer. */
static int command(struct party *p, const char *text)
{
	say(p, text);
	STEP_UNTIL(p->msg_status, 5000, "%s: no answer to %s", p->user, text);
	return p->msg_status;
}

static void cancel(struct party *p)
{
	p->cancel_sent = true;
	nua_cancel(p->nh, TAG_END());
}

static void hang_up(struct party *p)
{
	nua_bye(p->nh, TAG_END());
}

/* @a user starts a space and holds it: it answers 200. */
static struct party *host(const char *user)
{
	struct party *p = party_new(user);

	dial(p, "share", NULL);
	STEP_UNTIL(p->invite_final, 5000, "no answer to %s's start", user);
	ck_assert_int_eq(p->invite_final, 200);
	return p;
}

/* @a user joins space @a id, Contact @a contact (NULL: the client's). */
static struct party *joiner(const char *user, uint64_t id, const char *contact)
{
	struct party *p = party_new(user);
	char target[32];

	snprintf(target, sizeof(target), "space-%" PRIu64, id);
	dial(p, target, contact);
	return p;
}

static struct party *member(const char *user, uint64_t id, const char *contact)
{
	struct party *p = joiner(user, id, contact);

	STEP_UNTIL(p->invite_final, 5000, "no answer to %s's join", user);
	ck_assert_int_eq(p->invite_final, 200);
	return p;
}

/* A UDP socket that reads nothing: a Contact there never answers. */
static int void_fd = -1;
static int void_invites;
static char contact_void[96];

static void open_void(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	void_invites = 0;
	void_fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(void_fd, 0);
	ck_assert_int_eq(bind(void_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(void_fd, (struct sockaddr *)&a, &len), 0);
	snprintf(contact_void, sizeof(contact_void),
		 "<sip:member@127.0.0.1:%u>", ntohs(a.sin_port));
}

/* INVITEs that reached the void so far (read and counted). */
static int void_invited(void)
{
	char buf[4096];
	ssize_t len;

	while ((len = recv(void_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0)
		if (strncmp(buf, "INVITE ", 7) == 0)
			void_invites++;
	return void_invites;
}

/* The adapter's transactions give up after @a ms (64*T1, RFC 3261 §17). */
static void server_timeout(unsigned ms)
{
	nua_set_params(ua->nua, NTATAG_SIP_T1X64(ms), TAG_END());
	step_for(50);
}

/* -- the raw party: requests written by hand (a CANCEL after the 200) ----- */

struct raw {
	int fd;
	unsigned port;
	char call_id[64], tag[32], branch[64], to_tag[64];
	char last[4096];
};

static void raw_open(struct raw *r)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	memset(r, 0, sizeof(*r));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(r->fd, 0);
	ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
	r->port = ntohs(a.sin_port);
	snprintf(r->call_id, sizeof(r->call_id), "raw%ld@127.0.0.1",
		 (long)now_ms());
	snprintf(r->tag, sizeof(r->tag), "rt%u", r->port);
}

static void raw_send(struct raw *r, const char *fmt, ...)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(SRV_PORT)};
	char buf[4096];
	va_list ap;
	int n;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(buf));
	ck_assert_int_eq(sendto(r->fd, buf, (size_t)n, 0,
				(struct sockaddr *)&to, sizeof(to)),
			 n);
}

/* Step until a message whose first line starts with @a first and that
 * holds @a has (or NULL) arrives; it is kept in r->last.  Requests of the
 * server on the way (a MESSAGE) are answered 200. */
static bool raw_wait(struct raw *r, const char *first, const char *has, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		ssize_t n =
		    recv(r->fd, r->last, sizeof(r->last) - 1, MSG_DONTWAIT);

		if (n <= 0) {
			su_root_step(root, 5);
			continue;
		}
		r->last[n] = '\0';
		if (strncmp(r->last, first, strlen(first)) == 0 &&
		    (!has || strstr(r->last, has)))
			return true;
	}
	return false;
}

static void raw_header(const struct raw *r, const char *name, char *buf,
		       size_t len)
{
	const char *h = strcasestr(r->last, name), *e;

	buf[0] = '\0';
	if (!h)
		return;
	h += strlen(name);
	while (*h == ' ')
		h++;
	e = strstr(h, "\r\n");
	snprintf(buf, len, "%.*s", e ? (int)(e - h) : (int)strlen(h), h);
}

#define RAW_HDR                                                                \
	"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\r\n"                    \
	"From: <sip:alice@127.0.0.1>;tag=%s\r\n"                               \
	"Call-ID: %s\r\n"                                                      \
	"Max-Forwards: 70\r\n"

/* -- setup ------------------------------------------------------------------
 */

static void admin(const char *sql)
{
	PGconn *c = connect_db(getenv("TVSPACE_TEST_DB"));

	exec_on(c, sql);
	PQfinish(c);
}

static void on_done(void *arg, int error)
{
	int *flag = arg;

	ck_assert_msg(error == 0, "store: %s", strerror(-error));
	*flag = 1;
}

static void level_row(void *arg, const struct store_level *l)
{
	struct level lv = {
	    .level = l->level,
	    .name = l->name,
	    .capacity = l->capacity,
	    .daily_limit = l->daily_limit,
	    .features = l->features,
	};

	catalog_add_level(cat, &lv);
}

static void seed(void)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");
	char path[1024], *text;
	FILE *f;
	long n;

	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof(path), "%s/db/demo.sql", src);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	exec_on(q, text);
	free(text);
	/* Joiners for the stress case, each with a service of its own. */
	exec_on(q, "INSERT INTO users (user_id) SELECT 'j' || g FROM "
		   "generate_series(1, 60) g; "
		   "INSERT INTO services (service_default_id, user_id, level, "
		   "default_channel, is_default) SELECT 'svc-j' || g, 'j' || "
		   "g, 1, 'news', true FROM generate_series(1, 60) g");
}

static void db_state(void *arg, bool up)
{
	(void)arg;
	(void)up;
}

static void setup(void)
{
	const char *base = getenv("TVSPACE_TEST_DB");
	struct sipua_deps deps = {0};
	struct space_policy pol = {0};
	char err[256];

	ck_assert_ptr_nonnull(base);
	log_set_level(getenv("TVSPACE_CHECK_DEBUG") ? LOG_DEBUG : LOG_ERR);
	log_capture_sofia();
	admin("DROP DATABASE IF EXISTS " DBNAME " WITH (FORCE)");
	admin("CREATE DATABASE " DBNAME);
	snprintf(conninfo, sizeof(conninfo), "%s dbname=" DBNAME, base);

	ck_assert_int_eq(su_init(), 0);
	su_home_init(home);
	sip_update_default_mclass(sip_extend_mclass(NULL));
	root = su_root_create(NULL);
	ck_assert_ptr_nonnull(root);

	cfg_defaults(&cfg);
	ck_assert_msg(
	    cfg_parse(&cfg, config, strlen(config), err, sizeof(err)) == 0,
	    "%s", err);
	cat = catalog_create(NULL);
	ck_assert_ptr_nonnull(cat);
	ck_assert_msg(
	    lineup_parse(cat, lineup, strlen(lineup), err, sizeof(err)) == 0,
	    "%s", err);

	db = db_create(home, root, conninfo, db_state, NULL);
	ck_assert_ptr_nonnull(db);
	STEP_UNTIL(db_is_up(db), 5000, "the store does not connect");
	loaded = 0;
	ck_assert_int_eq(store_migrate(db, on_done, &loaded), 0);
	STEP_UNTIL(loaded, 10000, "migrations");
	q = connect_db(conninfo);
	locker = connect_db(conninfo);
	seed();
	loaded = 0;
	ck_assert_int_eq(store_load_levels(db, level_row, on_done, &loaded), 0);
	STEP_UNTIL(loaded, 5000, "levels");

	mgr = space_mgr_create(home, cat);
	ck_assert_ptr_nonnull(mgr);
	pol.admission_timeout = (int64_t)cfg.admission_timeout * 1000;
	pol.host_grace = (int64_t)cfg.host_grace * 1000;
	pol.book_interval = (int64_t)cfg.book_interval * 1000;
	space_mgr_set_policy(mgr, &pol, now_ms());
	db_set_limits(db, cfg.db_queue_soft, cfg.db_queue_hard, cfg.db_max_age);

	deps.root = root;
	deps.cfg = &cfg;
	deps.mgr = mgr;
	deps.db = db;
	ua = sipua_create(home, &deps);
	ck_assert_ptr_nonnull(ua);

	cli = nua_create(root, client_cb, NULL,
			 NUTAG_URL("sip:127.0.0.1:"
				   "5181"),
			 NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0),
			 NUTAG_AUTOACK(1), NUTAG_ENABLEMESSAGE(1),
			 NUTAG_ENABLEINVITE(1), TAG_END());
	ck_assert_ptr_nonnull(cli);
	n_parties = 0;
	cli_down = srv_down = false;
	open_void();
}

static void server_stopped(void *arg)
{
	(void)arg;
	srv_down = true;
}

static void teardown(void)
{
	/* A lock still held would keep the store from draining. */
	if (PQtransactionStatus(locker) != PQTRANS_IDLE)
		unlock();
	sipua_shutdown(ua, server_stopped, NULL);
	STEP_UNTIL(srv_down, 20000, "the adapter does not shut down");
	nua_shutdown(cli);
	STEP_UNTIL(cli_down, 20000, "the client does not shut down");
	nua_destroy(cli);
	store_idle();
	/* As main does: the store first, its jobs complete into the adapter
	 * while it is alive. */
	db = db_destroy(db);
	ua = sipua_destroy(ua);
	mgr = space_mgr_destroy(mgr);
	cat = catalog_destroy(cat);
	PQfinish(q);
	PQfinish(locker);
	close(void_fd);
	su_root_destroy(root);
	su_home_deinit(home);
	su_deinit();
}

/* The core's members of space @a id (host and guests), -1 without it. */
static int core_members(uint64_t id)
{
	struct space *sp = space_find(mgr, id);

	return sp ? (int)space_count(sp) : -1;
}

static int open_rows(const char *user)
{
	return sql_int("SELECT count(*) FROM members WHERE user_id = '%s' "
		       "AND left_at IS NULL",
		       user);
}

static int rows(const char *user)
{
	return sql_int("SELECT count(*) FROM members WHERE user_id = '%s'",
		       user);
}

/* -- a start and its CANCEL -------------------------------------------------
 */

/* CANCEL while the host's service is looked up, before anything is
 * written: 487, and nothing is written after. */
/* @a a's INVITE waits on a locked table (@a what says where, when it does
 * not): its CANCEL gets 200 and the INVITE 487 at once; then the lock goes,
 * the commit lands, and no 200 ever follows. */
static void cancel_while_locked(struct party *a, const char *what)
{
	STEP_UNTIL(lock_waiters() > 0, 5000, "%s", what);
	cancel(a);
	STEP_UNTIL(a->invite_final && a->cancel_status, 5000,
		   "CANCEL not answered");
	ck_assert_int_eq(a->cancel_status, 200);
	ck_assert_int_eq(a->invite_final, 487);
	unlock();
	store_idle();
	step_for(300);
	ck_assert_int_eq(a->n_ok, 0);
}

START_TEST(start_cancel_before_commit)
{
	struct party *a = party_new("alice");

	lock_table("services");
	dial(a, "share", NULL);
	cancel_while_locked(a, "the lookup does not wait");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM members"), 0);
	ck_assert_uint_eq(space_mgr_count(mgr), 0);
}
END_TEST

/* CANCEL while the INSERT of the space waits on a lock (issue 14 defect 1,
 * issue 19 item 8): the CANCEL gets 200 and the INVITE 487 at once; when
 * the commit lands the space is forgotten, no 200 is ever sent, and the
 * next start is served as if nothing happened. */
START_TEST(start_cancel_while_commit)
{
	struct party *a = party_new("alice"), *b;

	lock_table("spaces");
	dial(a, "share", NULL);
	cancel_while_locked(a, "the INSERT does not wait");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM members"), 0);
	ck_assert_uint_eq(space_mgr_count(mgr), 0);

	/* The server goes on as before. */
	b = host("alice");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces WHERE state = "
				 "'live'"),
			 1);
	hang_up(b);
	STEP_UNTIL(b->bye_status, 5000, "BYE not answered");
	store_idle();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces WHERE state = "
				 "'live'"),
			 0);
	ck_assert_int_eq(open_rows("alice"), 0);
}
END_TEST

/* CANCEL sent the moment the start's commit lands: whichever the server
 * takes first, the host has a 200 and a live space, or a 487 and nothing
 * at all (nua answers 487 to a CANCEL only while the INVITE is unanswered
 * in its own thread, where our 200 may still be on its way: that 200 never
 * goes).  Tried ten times; every outcome must be one of the two. */
START_TEST(start_cancel_as_commit_lands)
{
	char user[16];
	int ok = 0, cancelled = 0;

	for (int i = 0; i < 10; i++) {
		struct party *a;
		int live;

		snprintf(user, sizeof(user), "j%d", i + 1);
		a = party_new(user);
		lock_table("spaces");
		dial(a, "share", NULL);
		STEP_UNTIL(lock_waiters() > 0, 5000, "the INSERT waits not");
		step_for(100); /* its 100 Trying: a CANCEL may go */
		unlock();
		cancel(a);
		STEP_UNTIL(a->invite_final, 5000, "no answer");
		store_idle();
		step_for(100);
		live = sql_int("SELECT count(*) FROM spaces WHERE state = "
			       "'live' AND host_user = '%s'",
			       user);
		if (a->invite_final == 200) {
			ok++;
			ck_assert_int_eq(live, 1);
			ck_assert_int_eq(open_rows(user), 1);
			ck_assert_uint_eq(space_mgr_count(mgr), 1);
			hang_up(a);
			STEP_UNTIL(a->bye_status, 5000, "BYE");
			store_idle();
		}
		else {
			cancelled++;
			ck_assert_int_eq(a->invite_final, 487);
			ck_assert_int_eq(a->n_ok, 0);
			ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces "
						 "WHERE host_user = '%s'",
						 user),
					 0);
			ck_assert_int_eq(rows(user), 0);
		}
		ck_assert_uint_eq(space_mgr_count(mgr), 0);
		ck_assert_int_eq(open_rows(user), 0);
	}
	fprintf(stderr,
		"start_cancel_as_commit_lands: %d answered, %d "
		"cancelled\n",
		ok, cancelled);
}
END_TEST

/* A CANCEL after the 200 went (the commit done) has no effect on the
 * session (RFC 3261 §9.2): the space lives until the host's BYE. */
START_TEST(start_cancel_after_commit)
{
	struct raw r;
	char to[256], contact[256], uri[256], status[64];
	size_t body = strlen(offer_video);

	raw_open(&r);
	snprintf(r.branch, sizeof(r.branch), "z9hG4bKinv%u", r.port);
	raw_send(&r,
		 "INVITE sip:share@" SRV " SIP/2.0\r\n" RAW_HDR
		 "To: <sip:share@" SRV ">\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@127.0.0.1:%u>\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 r.port, r.branch, r.tag, r.call_id, r.port, body, offer_video);
	ck_assert_msg(raw_wait(&r, "SIP/2.0 200", "CSeq: 1 INVITE", 5000),
		      "no 200 to the start");
	raw_header(&r, "\nTo:", to, sizeof(to));
	raw_header(&r, "\nContact:", contact, sizeof(contact));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces WHERE state = "
				 "'live'"),
			 1);

	/* The CANCEL, its 200 unACKed: it matches a transaction that has
	 * its final answer. */
	raw_send(&r,
		 "CANCEL sip:share@" SRV " SIP/2.0\r\n" RAW_HDR
		 "To: <sip:share@" SRV ">\r\n"
		 "CSeq: 1 CANCEL\r\n"
		 "Content-Length: 0\r\n\r\n",
		 r.port, r.branch, r.tag, r.call_id);
	ck_assert_msg(raw_wait(&r, "SIP/2.0 ", "CSeq: 1 CANCEL", 5000),
		      "no answer to the CANCEL");
	snprintf(status, sizeof(status), "%.11s", r.last + 8);
	ck_assert_msg(strncmp(status, "200", 3) == 0 ||
			  strncmp(status, "481", 3) == 0,
		      "CANCEL answered %s", status);
	/* No 487 follows: the INVITE's answer stays 200. */
	ck_assert(!raw_wait(&r, "SIP/2.0 487", NULL, 300));

	snprintf(uri, sizeof(uri), "%s", contact);
	if (uri[0] == '<') {
		memmove(uri, uri + 1, strlen(uri));
		*strchr(uri, '>') = '\0';
	}
	snprintf(r.branch, sizeof(r.branch), "z9hG4bKack%u", r.port);
	raw_send(&r,
		 "ACK %s SIP/2.0\r\n" RAW_HDR "To: %s\r\n"
		 "CSeq: 1 ACK\r\n"
		 "Content-Length: 0\r\n\r\n",
		 uri, r.port, r.branch, r.tag, r.call_id, to);
	step_for(200);
	store_idle();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces WHERE state = "
				 "'live'"),
			 1);
	ck_assert_int_eq(open_rows("alice"), 1);
	ck_assert_int_eq(core_members(1), 1);

	snprintf(r.branch, sizeof(r.branch), "z9hG4bKbye%u", r.port);
	raw_send(&r,
		 "BYE %s SIP/2.0\r\n" RAW_HDR "To: %s\r\n"
		 "CSeq: 2 BYE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 uri, r.port, r.branch, r.tag, r.call_id, to);
	ck_assert_msg(raw_wait(&r, "SIP/2.0 200", "CSeq: 2 BYE", 5000),
		      "BYE not answered");
	store_idle();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces WHERE state = "
				 "'live'"),
			 0);
	ck_assert_int_eq(open_rows("alice"), 0);
	close(r.fd);
}
END_TEST

/* -- joiners ----------------------------------------------------------------
 */

/* An open space admits at once; the joiner's CANCEL comes while its
 * member row waits on a lock: 487, and when the commit lands the row is
 * forgotten and the core has only the host.  The same user then joins. */
START_TEST(join_cancel_while_admission_commits)
{
	struct party *h = host("erin"), *b, *b2;

	ck_assert_int_eq(command(h, "/open"), 200);
	lock_table("members");
	b = joiner("bob", 1, NULL);
	STEP_UNTIL(lock_waiters() > 0, 5000, "the admission does not wait");
	ck_assert_int_eq(core_members(1), 2); /* the seat is held */
	cancel(b);
	STEP_UNTIL(b->invite_final && b->cancel_status, 5000,
		   "CANCEL not answered");
	ck_assert_int_eq(b->cancel_status, 200);
	ck_assert_int_eq(b->invite_final, 487);
	unlock();
	store_idle();
	step_for(300);
	ck_assert_int_eq(b->n_ok, 0);
	ck_assert_int_eq(rows("bob"), 0);
	ck_assert_int_eq(open_rows("erin"), 1);
	ck_assert_int_eq(core_members(1), 1);

	b2 = member("bob", 1, NULL);
	ck_assert_int_eq(open_rows("bob"), 1);
	ck_assert_int_eq(core_members(1), 2);
	hang_up(b2);
	hang_up(h);
	STEP_UNTIL(b2->bye_status && h->bye_status, 5000, "BYE not answered");
	store_idle();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM members WHERE left_at "
				 "IS NULL"),
			 0);
}
END_TEST

/* The joiner's CANCEL sent the moment its admission's commit lands, ten
 * joiners in turn: each has a 200 and an open row, or a 487 and no row at
 * all, and the core agrees. */
START_TEST(join_cancel_as_admission_lands)
{
	struct party *h = host("erin");
	char user[16];
	int ok = 0, cancelled = 0;

	ck_assert_int_eq(command(h, "/open"), 200);
	for (int i = 0; i < 10; i++) {
		struct party *b;

		snprintf(user, sizeof(user), "j%d", i + 1);
		lock_table("members");
		b = joiner(user, 1, NULL);
		STEP_UNTIL(lock_waiters() > 0, 5000, "the INSERT waits not");
		step_for(100); /* its 100 Trying: a CANCEL may go */
		unlock();
		cancel(b);
		STEP_UNTIL(b->invite_final, 5000, "no answer");
		store_idle();
		step_for(100);
		if (b->invite_final == 200) {
			ok++;
			ck_assert_int_eq(open_rows(user), 1);
			ck_assert_int_eq(core_members(1), 2);
			hang_up(b);
			STEP_UNTIL(b->bye_status, 5000, "BYE");
			store_idle();
		}
		else {
			cancelled++;
			ck_assert_int_eq(b->invite_final, 487);
			ck_assert_int_eq(b->n_ok, 0);
			ck_assert_int_eq(rows(user), 0);
		}
		ck_assert_int_eq(open_rows(user), 0);
		ck_assert_int_eq(core_members(1), 1);
	}
	ck_assert_int_eq(open_rows("erin"), 1);
	fprintf(stderr,
		"join_cancel_as_admission_lands: %d answered, %d "
		"cancelled\n",
		ok, cancelled);
}
END_TEST

/* The host's /allow and the joiner's CANCEL sent together, in either
 * order: whichever the server takes first, the joiner has a 200 and an
 * open row, or a 487 and no row, and the core agrees. */
static void allow_and_cancel(bool allow_first)
{
	struct party *h = host("erin"), *b;
	int bob_open;

	b = joiner("bob", 1, NULL);
	STEP_UNTIL(b->provisional == 180 && h->messages_in, 5000,
		   "the host is not asked");
	ck_assert_ptr_nonnull(strstr(h->messages, "join request 1 from bob"));
	if (allow_first) {
		say(h, "/allow 1");
		cancel(b);
	}
	else {
		cancel(b);
		say(h, "/allow 1");
	}
	STEP_UNTIL(b->invite_final && h->msg_status, 5000, "no answers");
	store_idle();
	step_for(300);
	bob_open = open_rows("bob");
	if (b->invite_final == 200) {
		ck_assert_int_eq(b->n_ok, 1);
		ck_assert_int_eq(h->msg_status, 200);
		ck_assert_int_eq(bob_open, 1);
		ck_assert_int_eq(core_members(1), 2);
		hang_up(b);
		STEP_UNTIL(b->bye_status, 5000, "BYE not answered");
	}
	else {
		ck_assert_int_eq(b->invite_final, 487);
		ck_assert_int_eq(b->n_ok, 0);
		/* /allow of a request withdrawn: 400 (no such request), or
		 * 200 when it came first and the commit was undone. */
		ck_assert_msg(h->msg_status == 200 || h->msg_status == 400,
			      "/allow answered %d", h->msg_status);
		ck_assert_int_eq(rows("bob"), 0);
		ck_assert_int_eq(core_members(1), 1);
	}
	store_idle();
	ck_assert_int_eq(open_rows("bob"), 0);
	ck_assert_int_eq(open_rows("erin"), 1);
	ck_assert_int_eq(core_members(1), 1);
	ck_assert_uint_eq(space_pending_count(space_find(mgr, 1)), 0);
}

START_TEST(join_cancel_and_allow_together)
{
	allow_and_cancel(true);
}
END_TEST

START_TEST(join_allow_and_cancel_together)
{
	allow_and_cancel(false);
}
END_TEST

/* /allow starts the admission's commit, held; then the CANCEL: 487 at
 * once, and the commit that lands is undone. */
START_TEST(join_cancel_while_allowed_admission_commits)
{
	struct party *h = host("erin"), *b;

	b = joiner("bob", 1, NULL);
	STEP_UNTIL(b->provisional == 180 && h->messages_in, 5000,
		   "the host is not asked");
	lock_table("members");
	ck_assert_int_eq(command(h, "/allow 1"), 200);
	cancel_while_locked(b, "the admission does not wait");
	ck_assert_int_eq(rows("bob"), 0);
	ck_assert_int_eq(core_members(1), 1);
	ck_assert_int_eq(open_rows("erin"), 1);
}
END_TEST

/* The host hangs up while a joiner's row waits on a lock: the host's BYE
 * is answered, the space ends once stored, the joiner gets 480 and never a
 * 200, and no member row is left open. */
START_TEST(host_bye_while_joiner_stored)
{
	struct party *h = host("erin"), *b;

	ck_assert_int_eq(command(h, "/open"), 200);
	lock_table("members");
	b = joiner("bob", 1, NULL);
	STEP_UNTIL(lock_waiters() > 0, 5000, "the admission does not wait");
	hang_up(h);
	STEP_UNTIL(h->bye_status, 5000, "the host's BYE is not answered");
	ck_assert_int_eq(h->bye_status, 200);
	ck_assert_int_eq(b->invite_final, 0);
	unlock();
	STEP_UNTIL(b->invite_final, 5000, "the joiner gets no answer");
	store_idle();
	step_for(300);
	ck_assert_int_eq(b->invite_final, 480);
	ck_assert_int_eq(rows("bob"), 0);
	ck_assert_int_eq(b->n_ok, 0);
	ck_assert_uint_eq(space_mgr_count(mgr), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM spaces WHERE state = "
				 "'live'"),
			 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM members WHERE left_at "
				 "IS NULL"),
			 0);
}
END_TEST

/* A comment given to the store while a joiner's admission commits, and
 * stored after the joiner came in: the joiner's history read, queued
 * after the comment, returns it; it must not come live as well. */
START_TEST(a_comment_during_a_join_comes_once)
{
	struct party *h = host("erin"), *b;
	char *first;

	ck_assert_int_eq(command(h, "/open"), 200);
	lock_table("members");
	b = joiner("bob", 1, NULL);
	STEP_UNTIL(lock_waiters() > 0, 5000, "the admission does not wait");
	say(h, "what a goal");
	step_for(100);
	/* the comment's INSERT will wait too, once bob's commit is through */
	exec_on(locker, "COMMIT");
	exec_on(locker, "BEGIN");
	exec_on(locker, "LOCK TABLE comments");
	STEP_UNTIL(b->invite_final, 5000, "bob is not answered");
	ck_assert_int_eq(b->invite_final, 200);
	STEP_UNTIL(lock_waiters() > 0, 5000, "the comment does not wait");
	unlock();
	STEP_UNTIL(h->msg_status, 5000, "the comment is not answered");
	ck_assert_int_eq(h->msg_status, 200);
	store_idle();
	step_for(300);
	first = strstr(b->messages, "what a goal");
	ck_assert_msg(first, "bob never got the comment: %s", b->messages);
	ck_assert_msg(!strstr(first + 1, "what a goal"),
		      "bob got the comment twice: %s", b->messages);
}
END_TEST

/* -- re-INVITEs after a /switch ---------------------------------------------
 */

/* A space of erin (open) with bob and carol; bob's Contact is @a
 * bob_contact and he answers re-INVITEs as @a bob_answers. */
static void space_of_three(struct party **h, struct party **b, struct party **c,
			   const char *bob_contact, enum answer bob_answers)
{
	*h = host("erin");
	ck_assert_int_eq(command(*h, "/open"), 200);
	*b = member("bob", 1, bob_contact);
	(*b)->answer = bob_answers;
	*c = member("carol", 1, NULL);
	store_idle();
	ck_assert_int_eq(core_members(1), 3);
}

/* The window is free again: a switch reaches the host. */
static void switch_reaches(struct party *h, const char *channel,
			   const char *group)
{
	char text[64];
	int before = h->reinvites;

	snprintf(text, sizeof(text), "/switch %s", channel);
	ck_assert_int_eq(command(h, text), 200);
	STEP_UNTIL(h->reinvites > before, 5000,
		   "the host gets no re-INVITE to %s", channel);
	ck_assert_ptr_nonnull(strstr(h->reinvite_sdp, group));
}

/* bob's BYE while our re-INVITE to him is unanswered (it went where
 * nothing answers): bob leaves at once, the others stay, and the window
 * of re-INVITEs is not held by his lost answer. */
START_TEST(bye_during_switch_reinvite)
{
	struct party *h, *b, *c;

	server_timeout(2000);
	space_of_three(&h, &b, &c, contact_void, ANSWER_NONE);
	ck_assert_int_eq(void_invited(), 0);
	switch_reaches(h, "sports", "232.10.0.2");
	STEP_UNTIL(void_invited() > 0, 5000, "no re-INVITE to bob");
	hang_up(b);
	STEP_UNTIL(b->bye_status, 5000, "bob's BYE is not answered");
	ck_assert_int_eq(b->bye_status, 200);
	store_idle();
	ck_assert_int_eq(open_rows("bob"), 0);
	ck_assert_int_eq(core_members(1), 2);
	/* Our re-INVITE's transaction ends meanwhile (64*T1 = 2 s). */
	step_for(2500);
	ck_assert_int_eq(core_members(1), 2);
	switch_reaches(h, "news", "232.10.0.1");
	STEP_UNTIL(c->reinvites == 2, 5000, "carol gets no re-INVITE");
	ck_assert_ptr_nonnull(strstr(c->reinvite_sdp, "232.10.0.1"));
	ck_assert_int_eq(open_rows("erin"), 1);
	ck_assert_int_eq(open_rows("carol"), 1);
}
END_TEST

/* No answer at all to the switch re-INVITE (RFC 3261 §12.2.1.2: 408 ends
 * the dialog): bob is removed, erin and carol stay on the new channel. */
START_TEST(switch_reinvite_408)
{
	struct party *h, *b, *c;
	char ch[32];

	server_timeout(2000);
	space_of_three(&h, &b, &c, contact_void, ANSWER_NONE);
	switch_reaches(h, "sports", "232.10.0.2");
	STEP_UNTIL(c->reinvites > 0, 5000, "carol gets no re-INVITE");
	STEP_UNTIL(core_members(1) == 2, 6000, "bob is not removed");
	store_idle();
	ck_assert_int_eq(open_rows("bob"), 0);
	ck_assert_int_eq(open_rows("erin"), 1);
	ck_assert_int_eq(open_rows("carol"), 1);
	sql_str(ch, sizeof(ch), "SELECT channel FROM spaces WHERE id = 1");
	ck_assert_str_eq(ch, "sports");
	switch_reaches(h, "news", "232.10.0.1");
	STEP_UNTIL(c->reinvites > 1, 5000, "carol gets no second re-INVITE");
}
END_TEST

/* 481 to the switch re-INVITE: the dialog is gone at bob's end; he is
 * removed, the others stay. */
START_TEST(switch_reinvite_481)
{
	struct party *h, *b, *c;

	space_of_three(&h, &b, &c, NULL, ANSWER_481);
	switch_reaches(h, "sports", "232.10.0.2");
	STEP_UNTIL(b->reinvites > 0 && c->reinvites > 0, 5000, "no re-INVITEs");
	STEP_UNTIL(core_members(1) == 2, 5000, "bob is not removed");
	store_idle();
	ck_assert_int_eq(open_rows("bob"), 0);
	ck_assert_int_eq(open_rows("erin"), 1);
	ck_assert_int_eq(open_rows("carol"), 1);
	switch_reaches(h, "news", "232.10.0.1");
}
END_TEST

/* 488 to the switch re-INVITE (RFC 6141: the session stays as it was):
 * bob stays in the space on his stream, is told by MESSAGE, and so is the
 * host. */
START_TEST(switch_reinvite_488)
{
	struct party *h, *b, *c;

	space_of_three(&h, &b, &c, NULL, ANSWER_488);
	switch_reaches(h, "sports", "232.10.0.2");
	STEP_UNTIL(b->reinvites > 0 && c->reinvites > 0, 5000, "no re-INVITEs");
	STEP_UNTIL(b->messages_in > 0 && strstr(h->messages, "bob"), 5000,
		   "nobody is told");
	ck_assert_ptr_nonnull(strstr(b->messages, "refused"));
	ck_assert_ptr_nonnull(strstr(h->messages, "bob cannot follow"));
	store_idle();
	ck_assert_int_eq(core_members(1), 3);
	ck_assert_int_eq(open_rows("bob"), 1);
	ck_assert_int_eq(b->byes_in, 0);
	ck_assert(!b->terminated);
}
END_TEST

/* -- many at once -----------------------------------------------------------
 */

/* 50 joiners of an open space, each CANCELling at a random moment, while
 * the members table is locked and released at random: every INVITE gets
 * one final answer, every open row is a joiner who got 200 and is in the
 * core, and after their BYEs only the host is left. */
START_TEST(joins_and_cancels_interleaved)
{
	enum { N = 50 };
	struct party *h = host("erin"), *j[N];
	int64_t cancel_at[N], lock_flip;
	unsigned seed = (unsigned)now_ms();
	int dialed = 0, ok = 0, open_joiners = 0, in_core;
	bool locked = false;
	char user[16];

	fprintf(stderr, "joins_and_cancels_interleaved: seed %u\n", seed);
	srandom(seed);
	ck_assert_int_eq(command(h, "/open"), 200);
	lock_flip = now_ms() + random() % 100;
	for (int64_t end = now_ms() + 20000; now_ms() < end;) {
		int64_t t = now_ms();
		bool all = dialed == N;

		if (t >= lock_flip) {
			if (locked)
				unlock();
			else
				lock_table("members");
			locked = !locked;
			lock_flip = t + 20 + random() % 150;
		}
		if (dialed < N && random() % 3 == 0) {
			snprintf(user, sizeof(user), "j%d", dialed + 1);
			j[dialed] = joiner(user, 1, NULL);
			cancel_at[dialed] = t + random() % 60;
			dialed++;
		}
		for (int i = 0; i < dialed; i++) {
			if (!j[i]->cancel_sent && !j[i]->invite_final &&
			    t >= cancel_at[i] && random() % 4 != 0)
				cancel(j[i]);
			all = all && j[i]->invite_final;
		}
		if (all)
			break;
		su_root_step(root, 2);
	}
	if (locked)
		unlock();
	for (int i = 0; i < dialed; i++)
		STEP_UNTIL(j[i]->invite_final, 10000, "j%d has no answer",
			   i + 1);
	ck_assert_int_eq(dialed, N);
	store_idle();
	step_for(300);
	for (int i = 0; i < N; i++) {
		int st = j[i]->invite_final;

		ck_assert_msg(st == 200 || st == 487 || st == 486 ||
				  st == 503 || st == 480,
			      "j%d: %d", i + 1, st);
		ck_assert_int_le(j[i]->n_ok, 1);
		snprintf(user, sizeof(user), "j%d", i + 1);
		ck_assert_int_eq(open_rows(user), st == 200);
		ok += st == 200;
	}
	open_joiners = sql_int("SELECT count(*) FROM members WHERE user_id "
			       "LIKE 'j%%' AND left_at IS NULL");
	in_core = core_members(1) - 1;
	fprintf(stderr,
		"joins_and_cancels_interleaved: %d admitted, %d open rows, "
		"%d in the core\n",
		ok, open_joiners, in_core);
	ck_assert_int_eq(open_joiners, ok);
	ck_assert_int_eq(in_core, ok);
	for (int i = 0; i < N; i++)
		if (j[i]->invite_final == 200)
			hang_up(j[i]);
	for (int i = 0; i < N; i++)
		if (j[i]->invite_final == 200)
			STEP_UNTIL(j[i]->bye_status, 5000, "j%d's BYE", i + 1);
	store_idle();
	ck_assert_int_eq(core_members(1), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM members WHERE left_at "
				 "IS NULL"),
			 1);
}
END_TEST

/* One case per test, so CK_RUN_CASE=NAME runs one. */
static void add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

#define ADD(s, t) add(s, #t, t)

static Suite *sipua_suite(void)
{
	Suite *s = suite_create("sipua");

	ADD(s, start_cancel_before_commit);
	ADD(s, start_cancel_while_commit);
	ADD(s, start_cancel_after_commit);
	ADD(s, start_cancel_as_commit_lands);
	ADD(s, join_cancel_while_admission_commits);
	ADD(s, join_cancel_as_admission_lands);
	ADD(s, join_cancel_and_allow_together);
	ADD(s, join_allow_and_cancel_together);
	ADD(s, join_cancel_while_allowed_admission_commits);
	ADD(s, host_bye_while_joiner_stored);
	ADD(s, a_comment_during_a_join_comes_once);
	ADD(s, bye_during_switch_reinvite);
	ADD(s, switch_reinvite_408);
	ADD(s, switch_reinvite_481);
	ADD(s, switch_reinvite_488);
	ADD(s, joins_and_cancels_interleaved);
	return s;
}

int main(void)
{
	return check_run(sipua_suite());
}
