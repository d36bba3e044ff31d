/* Pinned route sets of resumed dialogs: see routepin.h.  The pins are few
 * (the dialogs whose resuming re-INVITE is unanswered) and looked up by
 * Call-ID once per response parsed while there are any. */
#define LOG_MODULE "sip"
#include "sip/routepin.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_string.h>

#include "server/hash.h"
#include "server/log.h"

struct pin {
	struct hash_node node;
	char *call_id;
	char *route_set;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static su_home_t home[1] = {SU_HOME_INIT(home)};
static struct hash_table pins;
static bool pins_ready;
static unsigned long applied;
static issize_t (*stock_extract)(msg_t *, msg_pub_t *, char[], isize_t, int);

static struct pin *find(const char *call_id)
{
	hash_value_t hv = hash_str(call_id);

	for (struct hash_node *n = hash_bucket(&pins, hv); n; n = n->next) {
		struct pin *p = hash_entry(n, struct pin, node);

		if (n->hv == hv && strcmp(p->call_id, call_id) == 0)
			return p;
	}
	return NULL;
}

/* The 2xx's Record-Route becomes the pinned route set, reversed: nta
 * takes a UAC's route set as the Record-Route in reverse (RFC 3261
 * §12.1.2). */
static void pin_route(msg_t *msg, sip_t *sip, const char *route_set)
{
	su_home_t *mh = msg_home(msg);
	sip_record_route_t *all = sip_record_route_make(mh, route_set);
	sip_record_route_t *one[32];
	unsigned n = 0;

	if (!all) {
		log_warn("call-id %s: stored route set does not parse: %s",
			 sip->sip_call_id->i_id, route_set);
		return;
	}
	for (sip_record_route_t *r = all; r && n < 32; r = r->r_next)
		one[n++] = r;
	while (sip->sip_record_route)
		msg_header_remove(msg, (msg_pub_t *)sip,
				  (msg_header_t *)sip->sip_record_route);
	while (n--) {
		msg_header_t *h =
		    msg_header_dup_one(mh, (msg_header_t const *)one[n]);

		if (!h || msg_header_insert(msg, (msg_pub_t *)sip, h) < 0) {
			log_warn("call-id %s: route set not pinned",
				 sip->sip_call_id->i_id);
			return;
		}
	}
	applied++;
	log_debug("call-id %s: 2xx takes the stored route set %s",
		  sip->sip_call_id->i_id, route_set);
}

/* sofia's body extraction, then: the 2xx to the INVITE of a pinned dialog
 * gets the stored route set.  Runs on nua's thread, for every message
 * parsed: while there is no pin, one lock and a test. */
static issize_t extract(msg_t *msg, msg_pub_t *pub, char b[], isize_t bsiz,
			int eos)
{
	issize_t n = stock_extract(msg, pub, b, bsiz, eos);
	sip_t *sip = (sip_t *)pub;
	struct pin *p;

	if (n <= 0 || !sip || !sip->sip_status || !sip->sip_cseq ||
	    !sip->sip_call_id || !sip->sip_call_id->i_id ||
	    sip->sip_status->st_status < 200 ||
	    sip->sip_status->st_status >= 300 ||
	    sip->sip_cseq->cs_method != sip_method_invite)
		return n;
	pthread_mutex_lock(&lock);
	if (pins.n && (p = find(sip->sip_call_id->i_id)))
		pin_route(msg, sip, p->route_set);
	pthread_mutex_unlock(&lock);
	return n;
}

int routepin_install(msg_mclass_t *mc)
{
	int err = 0;

	pthread_mutex_lock(&lock);
	if (!pins_ready) {
		err = hash_init(&pins, home);
		pins_ready = err == 0;
	}
	if (!err && mc->mc_extract_body != extract) {
		stock_extract = mc->mc_extract_body;
		mc->mc_extract_body = extract;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int routepin_add(const char *call_id, const char *route_set)
{
	struct pin *p;
	int err = 0;

	if (!call_id || !route_set || !*route_set)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	if (!pins_ready)
		err = -EINVAL;
	else if ((p = find(call_id))) {
		su_free(home, p->route_set);
		p->route_set = su_strdup(home, route_set);
		err = p->route_set ? 0 : -ENOMEM;
	}
	else if (!(p = su_zalloc(home, sizeof(*p))) ||
		 !(p->call_id = su_strdup(home, call_id)) ||
		 !(p->route_set = su_strdup(home, route_set))) {
		if (p) {
			su_free(home, p->call_id);
			su_free(home, p);
		}
		err = -ENOMEM;
	}
	else
		hash_insert(&pins, &p->node, hash_str(call_id));
	pthread_mutex_unlock(&lock);
	return err;
}

static void drop(struct pin *p)
{
	hash_remove(&pins, &p->node);
	su_free(home, p->call_id);
	su_free(home, p->route_set);
	su_free(home, p);
}

void routepin_drop(const char *call_id)
{
	struct pin *p;

	if (!call_id)
		return;
	pthread_mutex_lock(&lock);
	if (pins_ready && (p = find(call_id)))
		drop(p);
	pthread_mutex_unlock(&lock);
}

void routepin_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; pins_ready && i < pins.n_buckets; i++)
		while (pins.buckets[i])
			drop(hash_entry(pins.buckets[i], struct pin, node));
	pthread_mutex_unlock(&lock);
}

unsigned long routepin_applied(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = applied;
	pthread_mutex_unlock(&lock);
	return n;
}
