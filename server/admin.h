/* The operator's ways in, both local and on the loop: the control socket
 * that tvspacectl talks to (a Unix stream socket: one command line in, "ok"
 * or "error: why" and the answer out), and the Prometheus metrics endpoint
 * (HTTP GET /metrics on a local TCP port). */
#ifndef TVSPACE_ADMIN_H
#define TVSPACE_ADMIN_H

#include <stddef.h>
#include <stdio.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>

struct db;
struct media;
struct sipua;
struct space_mgr;
struct admin;

struct admin_deps {
	su_root_t *root;
	struct space_mgr *mgr; /* spaces, members, the catalog; NULL until
				* admin_attach() */
	struct sipua *ua;      /* to end spaces and remove members */
	struct media *media;   /* may be NULL */
	const char *version;
	/* `reload`: what SIGHUP does; 0 when it started. */
	int (*reload)(void *arg);
	void *arg;
};

/** Listen on @a control_path (a Unix socket; "" for none) and
 * @a metrics_addr ("HOST:PORT"; "" for none).  NULL with the reason in
 * @a err when either cannot be opened. */
struct admin *admin_create(su_home_t *home, const struct admin_deps *deps,
			   const char *control_path, const char *metrics_addr,
			   char *err, size_t errlen);
/** The server is ready: answer from @a mgr, act through @a ua.  Before
 * this only `version` and `stats` are answered. */
void admin_attach(struct admin *a, struct space_mgr *mgr, struct sipua *ua);
/** Answer `services` from @a db, and give the metrics its queue's length
 * and age; NULL (the default) until the database exists. */
void admin_set_db(struct admin *a, struct db *db);
/** Close the listeners and every connection; remove the socket file. */
struct admin *admin_destroy(struct admin *a);

/** Answer one control command line @a line (as tvspacectl sends it) into
 * @a out: "ok\n" or "error: ...\n", then the body.  0 or -errno.
 * `services`, answered by the store, is answered through the control
 * socket only; here it is refused. */
int admin_command(struct admin *a, const char *line, FILE *out);

#endif
