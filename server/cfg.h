/* Configuration: one "key = value" file, '#' comments, validated at load
 * with errors that name the line.  Read by main at start and on SIGHUP; the
 * result is a plain struct the other modules read. */
#ifndef TVSPACE_CFG_H
#define TVSPACE_CFG_H

#include <stdbool.h>
#include <stddef.h>

enum cfg_grab_policy { CFG_GRAB_ASK, CFG_GRAB_FREE };
enum cfg_host_lost { CFG_HOST_LOST_PROMOTE, CFG_HOST_LOST_END };
enum cfg_auto_admit { CFG_ADMIT_NONE, CFG_ADMIT_FRIENDS };
enum cfg_digest { CFG_DIGEST_SHA256, CFG_DIGEST_MD5 };

#define CFG_MAX_PEERS    16
#define CFG_MAX_WARNINGS 8

struct cfg {
	char listen[256];      /* SIP URL to bind, "sip:127.0.0.1:5060" */
	char domain[128];      /* domain of factory, space and service URIs */
	char factory_user[64]; /* user part of the factory URI: "share" */
	char db[512];          /* libpq conninfo */
	char lineup[512];      /* M3U file */
	char guide[512];       /* XMLTV file, may be empty */
	char timezone[64];     /* for the daily reset, "" for the system's */
	/* P-Asserted-Identity is honoured from these addresses only. */
	char trusted_peers[CFG_MAX_PEERS][64];
	unsigned n_trusted_peers;
	/* Trust the From URI of requests from loopback addresses (development
	 * and the demo); never the default. */
	bool trust_loopback_from;
	/* SIP digest authentication (RFC 7616): the realm of the challenges
	 * ("" for the domain; the users' HA1s are computed with it) and how
	 * long a nonce is good for, in seconds (default 300). */
	char auth_realm[128];
	unsigned nonce_lifetime;
	/* The algorithms challenged with, preferred first (default SHA-256
	 * then MD5); credentials of any other are refused. */
	enum cfg_digest digest_algorithms[2];
	unsigned n_digest_algorithms;
	/* Requests outside a dialog per second and source address, and the
	 * burst allowed (defaults 20 and 40; rate_limit 0 turns it off);
	 * trusted peers carry everyone's traffic: rate_limit_trusted, 0
	 * (the default) exempts them. */
	unsigned rate_limit, rate_burst, rate_limit_trusted;
	/* Password guessing per user (server/guard.h): failed digest
	 * authentications in a row before a lockout (default 5; 0: off),
	 * the first lockout in seconds (30), doubled with each further
	 * failure up to auth_lockout_max (3600). */
	unsigned auth_failures, auth_lockout, auth_lockout_max;
	unsigned admission_timeout; /* seconds, default 60 */
	unsigned host_grace;        /* seconds, default 60 */
	unsigned session_expires;   /* RFC 4028 interval, default 1800 */
	unsigned max_body;          /* bytes of a comment, default 1024 */
	unsigned comment_history;   /* comments a new member is sent, 10 */
	/* Room panel NOTIFYs: changes within this many ms go in one (RFC
	 * 4575 subscribers of a busy room), default 100; 0 sends each. */
	unsigned notify_interval;
	/* Members are told by MESSAGE when someone leaves or is removed
	 * ("bob left"); default yes. */
	bool member_notices;
	/* Services looked up on demand are kept this many (default 10000)
	 * for this many seconds (60), and forgotten row by row when the
	 * database says a row changed. */
	unsigned service_cache_size, service_cache_ttl;
	/* Re-INVITEs that re-point members: this many unanswered at once to
	 * begin with (default 16); the rest wait their turn.  The window
	 * grows while answers come fast, up to reinvite_window_max (default
	 * 16: no more than reinvite_window keeps it fixed, as measured best
	 * through one socket, docs/performance.md), and halves on a slow
	 * answer or a timeout (sip/act.c). */
	unsigned reinvite_window, reinvite_window_max;
	/* Overload (docs/operations.md): new dialogs get 503 while the loop
	 * runs this many ms late (default 200), while the database queue
	 * holds db_queue_soft jobs (default 2000) or its oldest is older than
	 * db_max_age ms (default 1000); it never holds more than
	 * db_queue_hard (default 20000). */
	unsigned max_loop_lag, db_queue_soft, db_queue_hard, db_max_age;
	/* Below those limits, new dialogs are admitted at a rate that keeps
	 * the queue delay (loop lag, the database queue's oldest job, SIP
	 * waiting unread) near this many ms (default 40; 0: no rate, only
	 * the limits above; server/admit.h). */
	unsigned queue_delay_target;
	/* Members are told when this many seconds of the host service's
	 * daily playback are left (descending; default 600, 300, 60). */
	unsigned quota_warnings[CFG_MAX_WARNINGS];
	unsigned n_quota_warnings;
	unsigned book_interval;              /* seconds between bookings, 30 */
	unsigned rtp_port_min, rtp_port_max; /* relay ports 20000..29999 */
	char media_addr[64]; /* address the relay answers with */
	char slate_ts[512];  /* "not in your package" for MP2T relay legs */
	bool instant_change; /* ICC for MP2T relay legs, default yes */
	enum cfg_grab_policy grab_policy;
	enum cfg_host_lost host_lost;
	enum cfg_auto_admit auto_admit;
	char control_socket[108]; /* tvspacectl's Unix socket, "" for none */
	char metrics_listen[64];  /* "127.0.0.1:9464" for /metrics, "" none */
	int log_level;            /* syslog level, default LOG_INFO */
	bool log_syslog;
	/* The product named in the User-Agent header of what nua sends
	 * (requests and responses; RFC 3261 §20.41, §20.35), "" for none.
	 * Unless set, cfg_server_header() decides: the version only on a
	 * loopback listen address. */
	char server_header[128];
	bool server_header_set;
	/* Several nodes on one database (docs/scaling.md). */
	char node_id[64];    /* this node's name; "" runs alone */
	char node_uri[256];  /* where the proxy reaches it; "" is listen */
	unsigned lease_time; /* seconds a node's lease lasts, default 10 */
};

/** Fill @a cfg with the defaults. */
void cfg_defaults(struct cfg *cfg);
/** Parse "key = value" @a text over @a cfg (defaults stay for missing keys).
 * -EINVAL with "line N: reason" in @a err on an unknown key or a bad value. */
int cfg_parse(struct cfg *cfg, const char *text, size_t len, char *err,
	      size_t errlen);
/** Read and parse @a path; -errno when it cannot be read. */
int cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen);
/** Make cfg->timezone (when set) the zone of local time: the daily
 * playback limit resets at its midnight. */
void cfg_apply_timezone(const struct cfg *cfg);
/** Local midnight of the day of @a t (unix seconds). */
long long cfg_day_start(long long t);
/** The local day of @a t as "YYYY-MM-DD" in @a buf. */
void cfg_day_name(long long t, char *buf, size_t len);

/** The realm of digest challenges: auth_realm, else the domain. */
const char *cfg_realm(const struct cfg *cfg);

/** True when the host of cfg->listen is a loopback address (127.0.0.0/8,
 * ::1) or "localhost". */
bool cfg_listen_is_loopback(const struct cfg *cfg);
/** The User-Agent value to send: server_header when set ("" for none),
 * else "tvspace/VERSION" on a loopback listen address and "tvspace" on any
 * other (a version tells an attacker which flaws to try). */
const char *cfg_server_header(const struct cfg *cfg);

/** True when @a addr (numeric IPv4/IPv6 text) is a trusted peer. */
bool cfg_is_trusted_peer(const struct cfg *cfg, const char *addr);

#endif
