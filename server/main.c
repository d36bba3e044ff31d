/* tvspaced: the tvspace daemon.  Reads the configuration and lineup,
 * connects to PostgreSQL, applies the schema, loads the services, restores
 * the live spaces and serves SIP, all on one su_root loop. */
#define LOG_MODULE "main"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/sip_header.h>

#include "db/db.h"
#include "db/store.h"
#include "server/admin.h"
#include "server/catalog.h"
#include "server/cluster.h"
#include "server/cfg.h"
#include "server/guide.h"
#include "server/lineup.h"
#include "server/log.h"
#include "server/space.h"
#include "media/media.h"
#include "sip/sipua.h"

/* What a stop does to the live spaces (docs/operations.md, "Stopping,
 * restarting, reloading, upgrading"). */
enum stop_kind {
	STOP_NONE,
	STOP_KEEP, /* SIGTERM, SIGINT: a restart or an upgrade */
	STOP_END,  /* SIGUSR1: for good, every space ended */
};

/* sofia-sip's nua thread runs on until the process ends after a stop that
 * kept the dialogs: its root is kept here, reachable (sipua.c keeps the
 * stack itself). */
static su_root_t *root_left;

struct daemon {
	su_home_t home[1];
	su_root_t *root;
	struct cfg cfg;
	struct catalog *cat;
	struct guide *guide;
	/* A reload builds these, then swaps them in; the ones before stay
	 * one reload longer, as in-flight starts may point into them. */
	struct catalog *next_cat, *old_cat;
	struct guide *next_guide, *old_guide;
	struct db *db;
	struct space_mgr *mgr;
	struct media *media;
	struct sipua *ua;
	struct admin *admin;     /* control socket and metrics */
	struct cluster *cluster; /* the node's lease, NOTIFY tvspace */
	int sigfd;
	int reload_fd;           /* a reload's reading is done */
	struct reading *reading; /* a reload's files being read */
	pthread_t reader;
	su_timer_t *drain;    /* shutdown: waits for the store */
	su_timer_t *deadline; /* shutdown: the most it may take */
	enum stop_kind stop;
	unsigned drain_ticks;
	bool migrate_only; /* --migrate: apply the schema and exit */
	bool ready;        /* serving SIP */
	bool starting;     /* migrations and loads under way */
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: tvspaced [OPTION]...\n"
	    "The tvspace IPTV application server: shared viewing spaces "
	    "over SIP.\n\n"
	    "  -c, --config FILE     read the configuration FILE\n"
	    "  -l, --listen SIP-URL  SIP address to serve (default "
	    "sip:127.0.0.1:5060, UDP and TCP)\n"
	    "  -d, --db CONNINFO     PostgreSQL connection string\n"
	    "  -L, --lineup FILE     channel lineup (M3U)\n"
	    "  -D, --domain NAME     domain of the factory and space URIs\n"
	    "  -m, --migrate         apply the database schema and exit\n"
	    "  -t, --check           check the configuration, lineup, guide "
	    "and channel\n"
	    "                        sources, say what is wrong, and exit\n"
	    "  -v, --verbose         log at debug level\n"
	    "  -h, --help            print this help and exit\n"
	    "  -V, --version         print the version and exit\n\n"
	    "Options given here override the configuration file.\n");
}

static void fatal_stop(struct daemon *d, int code)
{
	d->exit_code = code;
	su_root_break(d->root);
}

static void restored(void *arg, int error)
{
	struct daemon *d = arg;

	if (error == -ECANCELED)
		return; /* a stop came first: the spaces stay stored */
	if (error) {
		log_err("cannot restore the live spaces (%s)",
			strerror(-error));
		fatal_stop(d, 1);
		return;
	}
	log_notice("ready: %u live spaces, %u channels",
		   space_mgr_count(d->mgr), catalog_channel_count(d->cat));
	d->ready = true;
	admin_attach(d->admin, d->mgr, d->ua);
	cluster_serve(d->cluster, d->mgr, d->ua);
}

/* The node holds its lease: what is still its own is loaded. */
static void joined(void *arg, int error)
{
	struct daemon *d = arg;

	if (error) {
		log_err("cannot take the node's lease (%s)", strerror(-error));
		fatal_stop(d, 1);
		return;
	}
	if (sipua_restore(d->ua, restored, d) < 0)
		restored(d, -ENOTCONN);
}

/* The core's policies, from the configuration. */
static void set_policy(struct daemon *d)
{
	const struct cfg *c = &d->cfg;
	struct space_policy p = {
	    .admission_timeout = (int64_t)c->admission_timeout * 1000,
	    .host_grace = (int64_t)c->host_grace * 1000,
	    .host_lost_end = c->host_lost == CFG_HOST_LOST_END,
	    .grab_free = c->grab_policy == CFG_GRAB_FREE,
	    .auto_admit_friends = c->auto_admit == CFG_ADMIT_FRIENDS,
	    .book_interval = (int64_t)c->book_interval * 1000,
	    .n_warnings = c->n_quota_warnings,
	};

	for (unsigned i = 0; i < c->n_quota_warnings && i < 8; i++)
		p.warnings[i] = c->quota_warnings[i];
	space_mgr_set_policy(d->mgr, &p,
			     (int64_t)(su_monotime(NULL) / 1000000));
}

static void level_row(void *arg, const struct store_level *l)
{
	struct daemon *d = arg;
	struct level lv = {
	    .level = l->level,
	    .name = l->name,
	    .capacity = l->capacity,
	    .daily_limit = l->daily_limit,
	    .features = l->features,
	};

	catalog_add_level(d->next_cat ? d->next_cat : d->cat, &lv);
}

/* The service levels are in the catalog: the core can decide. */
static void levels_loaded(void *arg, int error)
{
	struct daemon *d = arg;
	struct sipua_deps deps = {0};

	if (error) {
		log_err("cannot load the service levels (%s)",
			strerror(-error));
		fatal_stop(d, 1);
		return;
	}
	d->mgr = space_mgr_create(d->home, d->cat);
	if (!d->mgr) {
		fatal_stop(d, 1);
		return;
	}
	set_policy(d);
	db_set_limits(d->db, d->cfg.db_queue_soft, d->cfg.db_queue_hard,
		      d->cfg.db_max_age);
	deps.root = d->root;
	deps.cfg = &d->cfg;
	deps.mgr = d->mgr;
	deps.db = d->db;
	deps.guide = d->guide;
	deps.media = d->media;
	d->ua = sipua_create(d->home, &deps);
	if (!d->ua) {
		fatal_stop(d, 1);
		return;
	}
	if (cluster_join(d->cluster, joined, d) < 0)
		joined(d, -ENOTCONN);
}

static void migrated(void *arg, int error)
{
	struct daemon *d = arg;

	if (!error && d->migrate_only) {
		log_notice("schema up to date");
		su_root_break(d->root);
		return;
	}
	/* Subscribers and their services are not loaded: they are looked up
	 * when they act.  Levels are a small table. */
	if (error ||
	    store_load_levels(d->db, level_row, levels_loaded, d) < 0) {
		log_err("cannot apply the schema (%s)",
			strerror(error ? -error : ENOTCONN));
		fatal_stop(d, 1);
	}
}

static void db_state(void *arg, bool up)
{
	struct daemon *d = arg;

	if (!up) {
		log_warn("database connection lost; new requests get 503 "
			 "until it is back");
		return;
	}
	log_notice("database connected");
	/* The first connection brings the server up; later ones only
	 * resume service. */
	if (d->ready)
		cluster_db_up(d->cluster);
	if (d->ready || d->starting)
		return;
	d->starting = true;
	if (store_migrate(d->db, migrated, d) < 0) {
		d->starting = false;
		log_err("cannot start the migrations");
	}
}

/* The node's lease is given up (or it runs alone): the loop ends. */
static void left(void *arg, int error)
{
	struct daemon *d = arg;

	(void)error;
	su_root_break(d->root);
}

/* A stop for good: nua has answered or given up on every BYE. */
static void stopped(void *arg)
{
	struct daemon *d = arg;

	/* After what the stop queued (ends of spaces): the other nodes
	 * claim what is left at once. */
	cluster_leave(d->cluster, left, d);
}

/* The store has done what it was given (the ends of spaces, a member's
 * departure, the tag of a dialog just answered), for up to 5 s. */
static void drain(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct daemon *d = (struct daemon *)arg;

	if (db_pending(d->db) && db_is_up(d->db) && ++d->drain_ticks <= 50)
		return;
	su_timer_reset(d->drain);
	if (d->stop == STOP_END) {
		/* Every BYE went out with its Reason: nua may end now. */
		sipua_shutdown(d->ua, stopped, d);
		return;
	}
	/* A restart: the dialogs are the next start's, or the other
	 * nodes' once the lease is given up, so nothing more goes into
	 * them from here. */
	sipua_quiet(d->ua);
	cluster_leave(d->cluster, left, d);
}

static void deadline(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct daemon *d = (struct daemon *)arg;

	log_warn("shutdown took too long; stopping now");
	su_root_break(d->root);
}

/* SIGTERM and SIGINT keep the spaces (@a kind STOP_KEEP), SIGUSR1 ends
 * them (STOP_END); a second signal stops at once. */
static void begin_stop(struct daemon *d, enum stop_kind kind, unsigned signo)
{
	if (!d->ua || d->stop) {
		log_notice("signal %u: stopping now", signo);
		su_root_break(d->root);
		return;
	}
	d->stop = kind;
	/* Terminals that never answer our BYE do not hold the daemon: nua
	 * gives up on them, and 10 s is the limit. */
	d->deadline = su_timer_create(su_root_task(d->root), 10000);
	if (d->deadline)
		su_timer_set(d->deadline, deadline, (su_timer_arg_t *)d);
	if (kind == STOP_END)
		log_notice("signal %u: ending %u live spaces, then stopping",
			   signo, sipua_end_all(d->ua));
	else {
		log_notice("signal %u: stopping; %u live spaces and their "
			   "dialogs stay for the next start",
			   signo, space_mgr_count(d->mgr));
		sipua_keep_dialogs(d->ua);
	}
	d->drain = su_timer_create(su_root_task(d->root), 100);
	if (!d->drain ||
	    su_timer_set_for_ever(d->drain, drain, (su_timer_arg_t *)d) < 0)
		su_root_break(d->root);
}

/* The channels the server plays itself start now and run to the end, as a
 * headend's would: they send to their groups whether or not a space watches
 * them, since multicast members join the group on their own.  A source that
 * cannot play (a ts: file that is not a transport stream) is the lineup's
 * error: -errno, logged.  With instant_change the MP2T feeds are received
 * from the start too, so each keeps its packets since the last keyframe
 * before anyone switches to it. */
static int start_generated(struct daemon *d, const struct catalog *cat)
{
	for (unsigned i = 0; i < catalog_channel_count(cat); i++) {
		const struct channel *ch = catalog_channel_at(cat, i);
		bool feed = !ch->generate && d->cfg.instant_change &&
			    ch->media == CHANNEL_VIDEO && ch->group;
		int rc =
		    ch->generate || feed ? media_source_start(d->media, ch) : 0;

		if (rc < 0 && feed) {
			/* Not fatal: it is joined again when a relay member
			 * needs it, without a cache to start from. */
			log_warn("channel %s: cannot receive its group %s "
				 "(%s)",
				 ch->id, ch->group, strerror(-rc));
		}
		else if (rc < 0) {
			log_err("channel %s: cannot play %s (%s)", ch->id,
				ch->generate, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void reloaded(void *arg, int error)
{
	struct daemon *d = arg;

	if (error) {
		log_err("reload: cannot load the service levels (%s); "
			"keeping the old lineup, guide and levels",
			strerror(-error));
		d->next_cat = catalog_destroy(d->next_cat);
		d->next_guide = guide_destroy(d->next_guide);
		return;
	}
	/* A source already playing keeps playing: its channel id is its
	 * name.  New ones start; one that cannot is logged and left out.  One
	 * the lineup lost stops once no member watches it. */
	start_generated(d, d->next_cat);
	for (unsigned i = 0; i < catalog_channel_count(d->cat); i++) {
		const struct channel *ch = catalog_channel_at(d->cat, i);

		if (!catalog_channel(d->next_cat, ch->id))
			media_source_unpin(d->media, ch->id);
	}
	catalog_destroy(d->old_cat);
	d->old_cat = d->cat;
	d->cat = d->next_cat;
	d->next_cat = NULL;
	space_mgr_set_catalog(d->mgr, d->cat);
	if (d->next_guide) {
		guide_destroy(d->old_guide);
		d->old_guide = d->guide;
		d->guide = d->next_guide;
		d->next_guide = NULL;
		sipua_set_guide(d->ua, d->guide);
	}
	log_notice("reloaded: %u channels, %u programmes",
		   catalog_channel_count(d->cat), guide_count(d->guide));
}

/* A reload's files are read and parsed off the loop (a guide may be
 * megabytes of XML): a thread fills a catalog and a guide of their own
 * homes and says so on an eventfd the loop watches. */
struct reading {
	char lineup[512], guide_path[512];
	struct catalog *cat;
	struct guide *guide;
	char err[256];
	int rc_lineup, rc_guide;
	int fd;
};

static void *read_files(void *arg)
{
	struct reading *r = arg;
	uint64_t one = 1;

	r->cat = catalog_create(NULL);
	r->rc_lineup =
	    r->cat ? lineup_load(r->cat, r->lineup, r->err, sizeof(r->err))
		   : -ENOMEM;
	if (!r->rc_lineup && r->guide_path[0]) {
		r->guide = guide_create(NULL);
		r->rc_guide = r->guide ? guide_load(r->guide, r->guide_path,
						    r->err, sizeof(r->err))
				       : -ENOMEM;
	}
	if (write(r->fd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd takes this write */
	return NULL;
}

static int files_read(su_root_magic_t *magic, su_wait_t *w,
		      su_wakeup_arg_t *arg)
{
	struct daemon *d = (struct daemon *)arg;
	struct reading *r = d->reading;
	uint64_t n;

	if (read(d->reload_fd, &n, sizeof(n)) != sizeof(n) || !r)
		return 0;
	pthread_join(d->reader, NULL);
	d->reading = NULL;
	if (r->rc_lineup < 0) {
		log_err("reload: lineup %s: %s; keeping the old one",
			d->cfg.lineup, r->err);
		catalog_destroy(r->cat);
		free(r);
		return 0;
	}
	if (r->rc_guide < 0) {
		log_err("reload: guide %s: %s; keeping the old one",
			d->cfg.guide, r->err);
		r->guide = guide_destroy(r->guide);
	}
	d->next_cat = r->cat;
	d->next_guide = r->guide;
	free(r);
	if (store_load_levels(d->db, level_row, reloaded, d) < 0)
		reloaded(d, -ENOTCONN);
	return 0;
}

/* SIGHUP: the lineup, the guide and the service levels again, without
 * touching the live spaces (each keeps the channel it plays). */
static int reload(struct daemon *d)
{
	struct reading *r;
	int err;

	if (!d->ready || d->next_cat || d->reading) {
		log_warn("reload: not now (starting, or a reload under way)");
		return -EBUSY;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->lineup, sizeof(r->lineup), "%s", d->cfg.lineup);
	snprintf(r->guide_path, sizeof(r->guide_path), "%s", d->cfg.guide);
	r->fd = d->reload_fd;
	d->reading = r;
	err = pthread_create(&d->reader, NULL, read_files, r);
	if (err) {
		d->reading = NULL;
		free(r);
		log_err("reload: cannot start reading (%s)", strerror(err));
		return -err;
	}
	return 0;
}

/* NOTIFY services: provisioning changed the services or levels. */
static int reload_notify(void *arg)
{
	struct daemon *d = arg;

	return d->ready ? reload(d) : 0;
}

/* tvspacectl reload */
static int reload_cmd(void *arg)
{
	struct daemon *d = arg;

	log_notice("reload asked on the control socket");
	return reload(d);
}

static int on_signal(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct daemon *d = (struct daemon *)arg;
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	switch (si.ssi_signo) {
	case SIGHUP:
		log_notice("SIGHUP: reloading the lineup, guide and services");
		reload(d);
		break;
	case SIGUSR1:
		begin_stop(d, STOP_END, si.ssi_signo);
		break;
	default:
		begin_stop(d, STOP_KEEP, si.ssi_signo);
		break;
	}
	return 0;
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;
	su_wait_t w;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	/* Blocked before any thread starts, so none of them takes one. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	(void)signal(SIGPIPE, SIG_IGN); /* fails only for a bad signal */
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -errno;
	if (su_wait_create(&w, d->sigfd, SU_WAIT_IN) < 0 ||
	    su_root_register(d->root, &w, on_signal, (su_wakeup_arg_t *)d, 0) <
		0)
		return -EIO;
	d->reload_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->reload_fd < 0)
		return -errno;
	if (su_wait_create(&w, d->reload_fd, SU_WAIT_IN) < 0 ||
	    su_root_register(d->root, &w, files_read, (su_wakeup_arg_t *)d, 0) <
		0)
		return -EIO;
	return 0;
}

static int copy_opt(char *dst, size_t len, const char *src, const char *name)
{
	if (strlen(src) >= len) {
		fprintf(stderr, "tvspaced: --%s is too long\n", name);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

/* Each relay leg holds a socket, and a node that takes over another's
 * spaces makes their legs at once: the soft limit of open
 * files (often 1,024) goes up to the hard one, and a hard limit below what
 * the port range allows is said at start rather than found leg by leg
 * ("no relay leg") during a takeover. */
static void raise_open_files(const struct cfg *cfg)
{
	unsigned legs = (cfg->rtp_port_max - cfg->rtp_port_min + 1) / 2;
	rlim_t want = (rlim_t)legs + 256; /* SIP, database, feeds */
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("open files: limit unknown (%s)", strerror(errno));
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("open files: cannot raise %llu to %llu (%s)",
				 (unsigned long long)was,
				 (unsigned long long)rl.rlim_max,
				 strerror(errno));
			rl.rlim_cur = was;
		}
	}
	if (rl.rlim_cur < want)
		log_warn(
		    "open files: %llu allowed (was %llu), about %llu "
		    "relay legs; rtp_port_min..rtp_port_max allow %u "
		    "(raise LimitNOFILE)",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)was,
		    (unsigned long long)(rl.rlim_cur > 256 ? rl.rlim_cur - 256
							   : 0),
		    legs);
	else
		log_info("open files: %llu allowed (was %llu)",
			 (unsigned long long)rl.rlim_cur,
			 (unsigned long long)was);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'd'},
	    {"lineup", required_argument, NULL, 'L'},
	    {"domain", required_argument, NULL, 'D'},
	    {"migrate", no_argument, NULL, 'm'},
	    {"check", no_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	const char *config = NULL, *listen = NULL, *db = NULL, *lineup = NULL,
		   *domain = NULL;
	struct daemon d = {.sigfd = -1, .reload_fd = -1};
	char err[256];
	int opt, verbose = 0;
	bool check_only = false, stack_left = false;

	while ((opt = getopt_long(argc, argv, "c:l:d:L:D:mtvhV", opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'L':
			lineup = optarg;
			break;
		case 'D':
			domain = optarg;
			break;
		case 'm':
			d.migrate_only = true;
			break;
		case 't':
			check_only = true;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tvspaced %s\n", TVSPACE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tvspaced: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	cfg_defaults(&d.cfg);
	if (config && cfg_load(&d.cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "tvspaced: %s: %s\n", config, err);
		return 1;
	}
	if ((listen &&
	     copy_opt(d.cfg.listen, sizeof(d.cfg.listen), listen, "listen")) ||
	    (db && copy_opt(d.cfg.db, sizeof(d.cfg.db), db, "db")) ||
	    (lineup &&
	     copy_opt(d.cfg.lineup, sizeof(d.cfg.lineup), lineup, "lineup")) ||
	    (domain &&
	     copy_opt(d.cfg.domain, sizeof(d.cfg.domain), domain, "domain")))
		return 2;
	cfg_apply_timezone(&d.cfg);
	log_set_level(verbose ? LOG_DEBUG : d.cfg.log_level);
	if (d.cfg.log_syslog)
		log_use_syslog("tvspaced");
	log_capture_sofia();
	if (!d.migrate_only)
		raise_open_files(&d.cfg);

	if (su_init() < 0 || su_home_init(d.home) < 0)
		return 1;
	/* P-Asserted-Identity and the other RFC 3325 headers are parsed only
	 * with sofia's extended message class. */
	sip_update_default_mclass(sip_extend_mclass(NULL));
	d.root = su_root_create(NULL);
	if (!d.root) {
		log_err("cannot create the event loop");
		return 1;
	}
	d.cat = catalog_create(d.home);
	if (!d.cat)
		return 1;
	if (!d.migrate_only &&
	    lineup_load(d.cat, d.cfg.lineup, err, sizeof(err)) < 0) {
		log_err("lineup %s: %s", d.cfg.lineup, err);
		return 1;
	}
	if (!d.migrate_only && d.cfg.guide[0]) {
		d.guide = guide_create(d.home);
		if (!d.guide ||
		    guide_load(d.guide, d.cfg.guide, err, sizeof(err)) < 0) {
			log_err("guide %s: %s", d.cfg.guide, err);
			return 1;
		}
	}
	if (!d.migrate_only) {
		struct media_config mc = {
		    .bind_addr = d.cfg.media_addr,
		    .port_min = d.cfg.rtp_port_min,
		    .port_max = d.cfg.rtp_port_max,
		    .multicast_ttl = 0,
		    .multicast_if = d.cfg.media_addr,
		    .slate_ts = d.cfg.slate_ts,
		    .instant_change = d.cfg.instant_change,
		};

		d.media = media_create(d.home, d.root, &mc);
		if (!d.media) {
			log_err("cannot start the media engine");
			return 1;
		}
		if (start_generated(&d, d.cat) < 0)
			return 1;
	}
	if (check_only) {
		/* Everything that needs no database has been read. */
		printf("tvspaced: %s: configuration OK; lineup %s: %u "
		       "channels; guide: %u programmes\n",
		       config ? config : "(no file)", d.cfg.lineup,
		       catalog_channel_count(d.cat), guide_count(d.guide));
		d.media = media_destroy(d.media);
		su_root_destroy(d.root);
		su_home_deinit(d.home);
		su_deinit();
		return 0;
	}
	if (!d.migrate_only &&
	    (d.cfg.control_socket[0] || d.cfg.metrics_listen[0])) {
		struct admin_deps ad = {
		    .root = d.root,
		    .media = d.media,
		    .version = TVSPACE_VERSION,
		    .reload = reload_cmd,
		    .arg = &d,
		};

		d.admin = admin_create(d.home, &ad, d.cfg.control_socket,
				       d.cfg.metrics_listen, err, sizeof(err));
		if (!d.admin) {
			log_err("%s", err);
			return 1;
		}
	}
	if (setup_signals(&d) < 0) {
		log_err("cannot set up signal handling");
		return 1;
	}
	d.db = db_create(d.home, d.root, d.cfg.db, db_state, &d);
	if (!d.db) {
		log_err("cannot create the database connection");
		return 1;
	}
	store_set_node(d.cfg.node_id);
	admin_set_db(d.admin, d.db);
	if (!d.migrate_only) {
		d.cluster = cluster_create(d.home, d.root, &d.cfg, d.db,
					   reload_notify, &d);
		if (!d.cluster) {
			log_err("cannot set up the node");
			return 1;
		}
	}
	log_notice("tvspaced %s starting, lineup %s (%u channels)",
		   TVSPACE_VERSION, d.cfg.lineup, catalog_channel_count(d.cat));

	su_root_run(d.root);

	/* The store first: jobs it still holds complete (cancelled) into
	 * the SIP adapter while that is alive. */
	if (d.drain)
		su_timer_destroy(d.drain);
	if (d.deadline)
		su_timer_destroy(d.deadline);
	d.admin = admin_destroy(d.admin);
	d.cluster = cluster_destroy(d.cluster);
	d.db = db_destroy(d.db);
	stack_left = d.ua && !sipua_stack_done(d.ua);
	d.ua = sipua_destroy(d.ua);
	d.mgr = space_mgr_destroy(d.mgr);
	/* A reload's catalogs and guides have homes of their own. */
	d.old_cat = catalog_destroy(d.old_cat);
	d.cat = catalog_destroy(d.cat);
	d.old_guide = guide_destroy(d.old_guide);
	d.guide = guide_destroy(d.guide);
	d.media = media_destroy(d.media);
	if (stack_left) {
		/* nua's thread still runs on this root (a stop that kept the
		 * dialogs, or one cut short): they end with the process. */
		root_left = d.root;
		su_home_deinit(d.home);
	}
	else {
		su_root_destroy(d.root);
		su_home_deinit(d.home);
		su_deinit();
	}
	if (d.reading) {
		pthread_join(d.reader, NULL);
		catalog_destroy(d.reading->cat);
		guide_destroy(d.reading->guide);
		free(d.reading);
	}
	if (d.sigfd >= 0)
		close(d.sigfd);
	if (d.reload_fd >= 0)
		close(d.reload_fd);
	log_notice("stopped");
	return d.exit_code;
}
