/* The space manager's transitions and refusals, with a fake clock. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/catalog.h"
#include "server/space.h"

#include "check_run.h"

static su_home_t home[1];
static struct catalog *cat;
static struct space_mgr *mgr;
static const int64_t T0 = 1700000000;

static void add_channel(const char *id, unsigned number, const char *group,
			enum channel_media media, unsigned pt)
{
	struct channel ch = {
	    .id = id,
	    .number = number,
	    .name = id,
	    .media = media,
	    .pt = pt,
	    .group = group,
	    .port = 5004,
	    .ttl = 16,
	};

	ck_assert_int_eq(catalog_add_channel(cat, &ch), 0);
}

static void add_service(const char *id, const char *user, unsigned capacity,
			bool is_default)
{
	struct service svc = {
	    .id = id,
	    .user = user,
	    .level = 1,
	    .capacity = capacity,
	    .daily_limit = 7200,
	    .default_channel = "news",
	    .is_default = is_default,
	};

	ck_assert_int_eq(catalog_add_service(cat, &svc), 0);
}

static void setup(void)
{
	su_home_init(home);
	cat = catalog_create(home);
	ck_assert_ptr_nonnull(cat);
	add_channel("news", 1, "232.10.0.1", CHANNEL_VIDEO, 33);
	add_channel("sports", 2, "232.10.0.2", CHANNEL_VIDEO, 33);
	add_channel("music", 4, "232.10.0.4", CHANNEL_AUDIO, 0);
	add_service("svc-alice", "alice", 3, true);
	add_service("svc-bob", "bob", 8, true);
	add_service("svc-bob-premium", "bob", 50, false);
	add_service("svc-carol", "carol", 4, true);
	mgr = space_mgr_create(home, cat);
	ck_assert_ptr_nonnull(mgr);
	space_mgr_set_admission_timeout(mgr, 60);
}

static void teardown(void)
{
	mgr = space_mgr_destroy(mgr);
	cat = catalog_destroy(cat);
	su_home_deinit(home);
}

static struct space_offer video_offer(const char *addr, bool mcast)
{
	struct space_offer o = {
	    .media = "video",
	    .port = 5004,
	    .addr = addr,
	    .multicast = mcast,
	    .pts = {33},
	    .n_pts = 1,
	};
	return o;
}

static struct space *start(const char *user, uint64_t id)
{
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_plan plan;
	struct space *sp = NULL;

	ck_assert_int_eq(space_plan_start(mgr, user, &o, T0, &plan), SPACE_OK);
	ck_assert_int_eq(
	    space_open(mgr, id, user, &plan, o.addr, o.port, NULL, T0, &sp), 0);
	return sp;
}

START_TEST(start_uses_default_service_and_offered_group)
{
	struct space_offer o = video_offer("232.10.0.2", true);
	struct space_plan plan;

	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_OK);
	ck_assert_str_eq(plan.service->id, "svc-alice");
	/* patent 0041: the offered multicast group names the channel */
	ck_assert_str_eq(plan.channel->id, "sports");
	ck_assert_int_eq(plan.delivery, SPACE_MULTICAST);
	ck_assert_uint_eq(plan.pt, 33);
}
END_TEST

START_TEST(start_falls_back_to_bc_channel_then_default_channel)
{
	struct space_offer o = video_offer("192.0.2.7", false);
	struct space_plan plan;

	o.want_multicast = true;
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_OK);
	ck_assert_str_eq(plan.channel->id, "news");
	ck_assert_int_eq(plan.delivery, SPACE_MULTICAST);

	o.bc_channel = "2";
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_OK);
	ck_assert_str_eq(plan.channel->id, "sports");

	o.bc_channel = "nosuch";
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_UNKNOWN_CHANNEL);
}
END_TEST

START_TEST(start_unicast_offer_is_relay)
{
	struct space_offer o = video_offer("192.0.2.7", false);
	struct space_plan plan;

	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_OK);
	ck_assert_int_eq(plan.delivery, SPACE_RELAY);
}
END_TEST

START_TEST(start_refuses_foreign_unknown_and_missing_service)
{
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_plan plan;

	o.bc_service = "svc-bob";
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_NOT_SUBSCRIBED);
	o.bc_service = "svc-nobody";
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_UNKNOWN_SERVICE);
	o.bc_service = NULL;
	ck_assert_int_eq(space_plan_start(mgr, "mallory", &o, T0, &plan),
			 SPACE_NO_SERVICE);
	o.bc_service = "svc-bob-premium";
	ck_assert_int_eq(space_plan_start(mgr, "bob", &o, T0, &plan), SPACE_OK);
	ck_assert_str_eq(plan.service->id, "svc-bob-premium");
}
END_TEST

START_TEST(start_refuses_media_the_offer_cannot_take)
{
	struct space_offer o = video_offer("232.10.0.4", true);
	struct space_plan plan;

	/* music is an audio channel: a video offer cannot carry it, whether
	 * it names it by group or by a=bc_channel */
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_MEDIA_MISMATCH);
	o.addr = "192.0.2.1";
	o.multicast = false;
	o.bc_channel = "music";
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_MEDIA_MISMATCH);
	o.bc_channel = NULL;
	o.pts[0] = 96;
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0, &plan),
			 SPACE_MEDIA_MISMATCH);
}
END_TEST

START_TEST(open_makes_the_starter_host)
{
	struct space *sp = start("alice", 7);
	struct space_member *h = space_host(sp);

	ck_assert_ptr_eq(space_find(mgr, 7), sp);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h->user, "alice");
	ck_assert_str_eq(h->service, "svc-alice");
	ck_assert_int_eq(h->role, SPACE_HOST);
	ck_assert_uint_eq(space_count(sp), 1);
	ck_assert_uint_eq(space_capacity(sp), 3);
	ck_assert_str_eq(space_channel(sp)->id, "news");
	ck_assert_uint_eq(space_mgr_count(mgr), 1);
}
END_TEST

START_TEST(join_is_pending_until_allowed)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m = NULL, *a = NULL;

	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0 + 1, &m), SPACE_OK);
	ck_assert_int_eq(m->role, SPACE_PENDING);
	ck_assert_uint_eq(m->request, 1);
	ck_assert_str_eq(m->service, "svc-bob");
	ck_assert_uint_eq(space_count(sp), 1);

	ck_assert_int_eq(space_admit(sp, 2, T0 + 2, &a), SPACE_NO_SUCH_REQUEST);
	ck_assert_int_eq(space_admit(sp, 1, T0 + 2, &a), SPACE_OK);
	ck_assert_ptr_eq(a, m);
	ck_assert_int_eq(m->role, SPACE_GUEST);
	ck_assert_uint_eq(m->seq, 2);
	ck_assert_uint_eq(space_count(sp), 2);
	/* admitted once: the request number is spent */
	ck_assert_int_eq(space_admit(sp, 1, T0 + 3, &a), SPACE_NO_SUCH_REQUEST);
}
END_TEST

START_TEST(join_refuses_member_again)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m;

	ck_assert_int_eq(space_join(sp, "alice", &o, NULL, T0, &m),
			 SPACE_ALREADY_MEMBER);
	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0, &m), SPACE_OK);
	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0, &m),
			 SPACE_ALREADY_MEMBER);
}
END_TEST

START_TEST(capacity_counts_admitted_members)
{
	struct space *sp = start("alice", 1); /* capacity 3 */
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m, *a;

	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0, &m), SPACE_OK);
	ck_assert_int_eq(space_join(sp, "carol", &o, NULL, T0, &m), SPACE_OK);
	ck_assert_int_eq(space_join(sp, "dave", &o, NULL, T0, &m), SPACE_OK);
	ck_assert_int_eq(space_admit(sp, 1, T0, &a), SPACE_OK);
	ck_assert_int_eq(space_admit(sp, 2, T0, &a), SPACE_OK);
	ck_assert_uint_eq(space_count(sp), 3);
	/* The last pending one cannot be admitted any more, and stays
	 * pending for the caller to refuse. */
	ck_assert_int_eq(space_admit(sp, 3, T0, &a), SPACE_FULL);
	ck_assert_str_eq(a->user, "dave");
	ck_assert_int_eq(a->role, SPACE_PENDING);
	ck_assert_int_eq(space_join(sp, "erin", &o, NULL, T0, &m), SPACE_FULL);
}
END_TEST

START_TEST(admission_holds_the_seat_at_once)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *b, *c, *d, *a;

	/* Two admissions race for the last seat: the first takes it while
	 * its commit is in flight; the second is told the space is full. */
	space_join(sp, "bob", &o, NULL, T0, &b);
	space_join(sp, "carol", &o, NULL, T0, &c);
	space_join(sp, "dave", &o, NULL, T0, &d);
	ck_assert_int_eq(space_admit(sp, 1, T0, &a), SPACE_OK);
	ck_assert_int_eq(space_admit(sp, 2, T0, &a), SPACE_OK);
	ck_assert_int_eq(space_admit(sp, 3, T0, &a), SPACE_FULL);
	/* The store failed for carol: she is pending again and dave fits. */
	space_unadmit(c);
	ck_assert_int_eq(c->role, SPACE_PENDING);
	ck_assert_int_eq(space_admit(sp, 3, T0, &a), SPACE_OK);
	ck_assert_ptr_eq(a, d);
}
END_TEST

START_TEST(pending_expires_after_admission_timeout)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m;

	space_join(sp, "bob", &o, NULL, T0 + 10, &m);
	ck_assert_int_eq(space_mgr_next_deadline(mgr, T0 + 10), 60);
	ck_assert_ptr_null(space_mgr_expired(mgr, T0 + 69));
	ck_assert_ptr_eq(space_mgr_expired(mgr, T0 + 70), m);
	space_member_remove(m);
	ck_assert_ptr_null(space_mgr_expired(mgr, T0 + 70));
	ck_assert_int_eq(space_mgr_next_deadline(mgr, T0 + 70), -1);
}
END_TEST

START_TEST(deny_and_remove)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m, *p;

	space_join(sp, "bob", &o, NULL, T0, &m);
	ck_assert_int_eq(space_pending(sp, 1, &p), SPACE_OK);
	ck_assert_ptr_eq(p, m);
	space_member_remove(p);
	ck_assert_ptr_null(space_member_by_user(sp, "bob"));
	ck_assert_int_eq(space_pending(sp, 1, &p), SPACE_NO_SUCH_REQUEST);
}
END_TEST

START_TEST(open_space_admits_without_asking)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m;

	ck_assert_int_eq(space_set_open(sp, "bob", true), SPACE_NOT_HOST);
	ck_assert_int_eq(space_set_open(sp, "alice", true), SPACE_OK);
	ck_assert(space_is_open(sp));
	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0, &m), SPACE_OK);
	ck_assert_int_eq(m->role, SPACE_GUEST);
	ck_assert_uint_eq(space_count(sp), 2);
}
END_TEST

START_TEST(join_media_must_fit_the_channel)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m;

	o.media = "audio";
	o.pts[0] = 0;
	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0, &m),
			 SPACE_MEDIA_MISMATCH);
}
END_TEST

START_TEST(switch_only_by_host_and_same_media)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m, *a;
	const struct channel *old;

	space_join(sp, "bob", &o, NULL, T0, &m);
	space_admit(sp, 1, T0, &a);
	ck_assert_int_eq(space_switch(sp, "bob", "sports", &old),
			 SPACE_NOT_HOST);
	ck_assert_int_eq(space_switch(sp, "alice", "nosuch", &old),
			 SPACE_UNKNOWN_CHANNEL);
	ck_assert_int_eq(space_switch(sp, "alice", "4", &old),
			 SPACE_MEDIA_MISMATCH);
	ck_assert_int_eq(space_switch(sp, "alice", "2", &old), SPACE_OK);
	ck_assert_str_eq(old->id, "news");
	ck_assert_str_eq(space_channel(sp)->id, "sports");
	space_set_channel(sp, old);
	ck_assert_str_eq(space_channel(sp)->id, "news");
}
END_TEST

START_TEST(handover_moves_the_remote)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m, *a;

	space_join(sp, "bob", &o, NULL, T0, &m);
	ck_assert_int_eq(space_handover(sp, "alice", "bob"),
			 SPACE_NO_SUCH_USER); /* still pending */
	space_admit(sp, 1, T0, &a);
	ck_assert_int_eq(space_handover(sp, "bob", "alice"), SPACE_NOT_HOST);
	ck_assert_int_eq(space_handover(sp, "alice", "alice"),
			 SPACE_HOST_ALREADY);
	ck_assert_int_eq(space_handover(sp, "alice", "bob"), SPACE_OK);
	ck_assert_str_eq(space_host(sp)->user, "bob");
	ck_assert_int_eq(space_member_by_user(sp, "alice")->role, SPACE_GUEST);
}
END_TEST

START_TEST(grab_asks_the_host_or_passes_when_free)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m, *a, *g;
	unsigned n = 0, n2 = 0;

	space_set_open(sp, "alice", true);
	space_join(sp, "bob", &o, NULL, T0, &m);
	space_join(sp, "carol", &o, NULL, T0, &a);
	ck_assert_int_eq(space_grab(sp, "alice", false, &n),
			 SPACE_HOST_ALREADY);
	ck_assert_int_eq(space_grab(sp, "erin", false, &n), SPACE_NOT_MEMBER);
	ck_assert_int_eq(space_grab(sp, "bob", false, &n), SPACE_OK);
	ck_assert_uint_ne(n, 0);
	ck_assert_int_eq(space_grab(sp, "bob", false, &n2), SPACE_OK);
	ck_assert_uint_eq(n2, n); /* asking twice is one request */
	ck_assert_ptr_eq(space_grabber(sp, n), m);
	ck_assert_int_eq(space_grab_answer(sp, n, false, &g), SPACE_OK);
	ck_assert_str_eq(space_host(sp)->user, "alice");
	ck_assert_int_eq(space_grab_answer(sp, n, true, &g),
			 SPACE_NO_SUCH_REQUEST);
	ck_assert_int_eq(space_grab(sp, "bob", false, &n), SPACE_OK);
	ck_assert_int_eq(space_grab(sp, "carol", false, &n2), SPACE_OK);
	ck_assert_int_eq(space_grab_answer(sp, n, true, &g), SPACE_OK);
	ck_assert_str_eq(space_host(sp)->user, "bob");
	/* carol asked the old host: her request is void now */
	ck_assert_ptr_null(space_grabber(sp, n2));
	ck_assert_int_eq(space_grab(sp, "carol", true, &n2), SPACE_OK);
	ck_assert_uint_eq(n2, 0);
	ck_assert_str_eq(space_host(sp)->user, "carol");
	ck_assert_int_eq(space_member_by_user(sp, "bob")->role, SPACE_GUEST);
}
END_TEST

START_TEST(restore_rebuilds_roles_and_order)
{
	struct space *sp;
	struct space_member *m;

	ck_assert_int_eq(
	    space_restore(mgr, 42, "svc-alice", "sports", true, T0, 0, &sp), 0);
	ck_assert_int_eq(space_restore_member(sp, "bob", "svc-bob", SPACE_GUEST,
					      SPACE_MULTICAST, 33, "232.10.0.2",
					      5004, 3, T0, &m),
			 0);
	ck_assert_int_eq(space_restore_member(sp, "alice", "svc-alice",
					      SPACE_HOST, SPACE_MULTICAST, 33,
					      "232.10.0.2", 5004, 1, T0, &m),
			 0);
	ck_assert_int_eq(space_restore_member(sp, "carol", NULL, SPACE_HOST,
					      SPACE_MULTICAST, 33, NULL, 0, 4,
					      T0, &m),
			 -EEXIST);
	ck_assert_str_eq(space_members(sp)->user, "alice");
	ck_assert_str_eq(space_host(sp)->user, "alice");
	ck_assert_uint_eq(space_count(sp), 2);
	ck_assert(space_is_open(sp));
	ck_assert_uint_eq(space_played(sp, T0 + 90), 90);
	/* Admission numbers continue after the restored ones. */
	space_set_open(sp, "alice", false);
	{
		struct space_offer o = video_offer("232.10.0.2", true);
		struct space_member *p, *a;

		space_join(sp, "carol", &o, NULL, T0, &p);
		space_admit(sp, p->request, T0, &a);
		ck_assert_uint_eq(a->seq, 4);
	}
}
END_TEST

START_TEST(daily_limit_counts_live_and_booked_time)
{
	struct space *sp;
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_plan plan;

	/* svc-alice: 7200 s a day; 7000 s were booked earlier today */
	space_mgr_new_day(mgr, T0 - 3600);
	ck_assert_int_eq(space_mgr_add_booked(mgr, "svc-alice", 7000), 0);
	ck_assert_uint_eq(space_mgr_left_today(mgr, "svc-alice", T0), 200);
	sp = start("alice", 1);
	ck_assert_uint_eq(space_mgr_played_today(mgr, "svc-alice", T0 + 50),
			  7050);
	ck_assert_uint_eq(space_mgr_left_today(mgr, "svc-alice", T0 + 50), 150);
	/* booking moves time from the space to the day, the sum stays */
	ck_assert_uint_eq(space_unbooked(sp, T0 + 50), 50);
	space_booked(sp, T0 + 50);
	ck_assert_uint_eq(space_unbooked(sp, T0 + 60), 10);
	ck_assert_uint_eq(space_mgr_played_today(mgr, "svc-alice", T0 + 60),
			  7060);
	ck_assert_uint_eq(space_mgr_left_today(mgr, "svc-alice", T0 + 200), 0);
	/* nothing left: no new space today */
	ck_assert_int_eq(space_plan_start(mgr, "alice", &o, T0 + 200, &plan),
			 SPACE_LIMIT_REACHED);
	/* other services are not touched; unlimited levels stay unlimited */
	ck_assert_uint_eq(space_mgr_left_today(mgr, "svc-bob", T0 + 200), 7200);
	/* warnings go once a day */
	ck_assert(space_warn_once(sp, 1));
	ck_assert(!space_warn_once(sp, 1));
	/* midnight: the old day is forgotten, the space counts from it */
	space_mgr_new_day(mgr, T0 + 300);
	ck_assert_uint_eq(space_mgr_played_today(mgr, "svc-alice", T0 + 310),
			  10);
	ck_assert(space_warn_once(sp, 1));
}
END_TEST

START_TEST(close_frees_the_space)
{
	struct space *sp = start("alice", 1);

	start("bob", 2);
	space_close(sp);
	ck_assert_ptr_null(space_find(mgr, 1));
	ck_assert_ptr_nonnull(space_find(mgr, 2));
	ck_assert_uint_eq(space_mgr_count(mgr), 1);
}
END_TEST

/* alice (host, capacity 3) with bob admitted; carol asks. */
static struct space *hosted_with_guest_and_joiner(struct space_member **bob,
						  struct space_member **carol)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *a = NULL;

	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0 + 1, bob),
			 SPACE_OK);
	ck_assert_int_eq(space_admit(sp, (*bob)->request, T0 + 2, &a),
			 SPACE_OK);
	ck_assert_int_eq(space_join(sp, "carol", &o, NULL, T0 + 3, carol),
			 SPACE_OK);
	return sp;
}

START_TEST(lost_host_keeps_the_space_and_the_seat)
{
	struct space_member *bob, *carol, *m = NULL;
	struct space *sp = hosted_with_guest_and_joiner(&bob, &carol);
	struct space_offer o = video_offer("232.10.0.1", true);
	const struct channel *old = NULL;
	unsigned request = 0;

	space_mgr_set_host_grace(mgr, 60);
	ck_assert_int_eq(space_lose_host(sp, NULL, T0 + 10), 0);
	ck_assert_ptr_null(space_host(sp));
	ck_assert_str_eq(space_lost_host(sp), "alice");
	ck_assert_uint_eq(space_count(sp), 1); /* bob */
	/* Others may still ask (carol waits with them). */
	ck_assert_int_eq(space_join(sp, "dave", &o, NULL, T0 + 11, &m),
			 SPACE_OK);
	ck_assert_int_eq(m->role, SPACE_PENDING);
	/* Nobody to ask: the joiner waits past the admission timeout, and
	 * nobody can take the remote. */
	ck_assert_ptr_null(space_mgr_expired(mgr, T0 + 500));
	ck_assert_int_eq(space_grab(sp, "bob", false, &request), SPACE_NO_HOST);
	ck_assert_int_eq(space_switch(sp, "bob", "sports", &old),
			 SPACE_NOT_HOST);
	/* The grace is the next deadline. */
	ck_assert_int_eq(space_mgr_next_deadline(mgr, T0 + 20), 50);
	ck_assert_ptr_null(space_mgr_host_gone(mgr, T0 + 69));
	ck_assert_ptr_eq(space_mgr_host_gone(mgr, T0 + 70), sp);
	ck_assert_int_eq(carol->role, SPACE_PENDING);
}
END_TEST

START_TEST(lost_host_comes_back_within_the_grace)
{
	struct space_member *bob, *carol, *m = NULL;
	struct space *sp = hosted_with_guest_and_joiner(&bob, &carol);
	struct space_offer o = video_offer("232.10.0.1", true);

	ck_assert_int_eq(space_lose_host(sp, NULL, T0 + 10), 0);
	/* Only alice takes the remote back this way. */
	ck_assert_int_eq(space_host_back(sp, "bob", &o, NULL, T0 + 20, &m),
			 SPACE_NOT_HOST);
	ck_assert_int_eq(space_host_back(sp, "alice", &o, NULL, T0 + 20, &m),
			 SPACE_OK);
	ck_assert_ptr_eq(space_host(sp), m);
	ck_assert_str_eq(m->user, "alice");
	ck_assert_ptr_null(space_lost_host(sp));
	ck_assert_ptr_null(space_mgr_host_gone(mgr, T0 + 1000));
	/* carol is asked of alice again: her admission time starts now */
	ck_assert_ptr_null(space_mgr_expired(mgr, T0 + 79));
	ck_assert_ptr_eq(space_mgr_expired(mgr, T0 + 80), carol);
	/* and alice cannot come back twice */
	ck_assert_int_eq(space_host_back(sp, "alice", &o, NULL, T0 + 21, &m),
			 SPACE_NOT_HOST);
}
END_TEST

START_TEST(earliest_guest_is_promoted)
{
	struct space_member *bob, *carol, *a = NULL, *p;
	struct space *sp = hosted_with_guest_and_joiner(&bob, &carol);
	struct space_offer o = video_offer("232.10.0.1", true);

	ck_assert_int_eq(space_admit(sp, carol->request, T0 + 4, &a), SPACE_OK);
	ck_assert_int_eq(space_lose_host(sp, NULL, T0 + 10), 0);
	/* alice's seat is kept: capacity 3 = bob + carol + her */
	ck_assert_int_eq(space_join(sp, "dave", &o, NULL, T0 + 11, &a),
			 SPACE_FULL);
	p = space_promote(sp, T0 + 70);
	ck_assert_ptr_eq(p, bob); /* admitted before carol */
	ck_assert_int_eq(bob->role, SPACE_HOST);
	ck_assert_int_eq(carol->role, SPACE_GUEST);
	ck_assert_ptr_eq(space_host(sp), bob);
	ck_assert_ptr_null(space_lost_host(sp));
	ck_assert_int_eq(space_host_back(sp, "alice", &(struct space_offer){0},
					 NULL, T0 + 71, &a),
			 SPACE_NOT_HOST);
}
END_TEST

START_TEST(no_guest_no_promotion)
{
	struct space *sp = start("alice", 1);

	ck_assert_int_eq(space_lose_host(sp, NULL, T0 + 10), 0);
	ck_assert_ptr_null(space_promote(sp, T0 + 70));
	ck_assert_str_eq(space_lost_host(sp), "alice");
	/* a space restored without a host waits for its host's user */
	ck_assert_int_eq(space_lose_host(sp, "alice", T0 + 80), 0);
	ck_assert_int_eq(space_mgr_next_deadline(mgr, T0 + 80), 60);
}
END_TEST

START_TEST(friends_of_the_host_come_in_unasked)
{
	struct space *sp = start("alice", 1);
	struct space_offer o = video_offer("232.10.0.1", true);
	struct space_member *m = NULL;

	ck_assert_int_eq(space_mgr_friend(mgr, "alice", "bob", true), 0);
	ck_assert_int_eq(space_mgr_friend(mgr, "alice", "bob", true), 0);
	ck_assert(space_mgr_is_friend(mgr, "alice", "bob"));
	ck_assert(!space_mgr_is_friend(mgr, "bob", "alice")); /* one way */
	/* auto_admit = none: a friend asks like anyone */
	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0 + 1, &m), SPACE_OK);
	ck_assert_int_eq(m->role, SPACE_PENDING);
	ck_assert(!space_member_by_friendship(m));
	space_member_remove(m);
	space_mgr_set_auto_admit_friends(mgr, true);
	ck_assert_int_eq(space_join(sp, "bob", &o, NULL, T0 + 2, &m), SPACE_OK);
	ck_assert_int_eq(m->role, SPACE_GUEST);
	ck_assert(space_member_by_friendship(m));
	ck_assert_uint_eq(m->seq, 2);
	ck_assert_int_eq(space_join(sp, "carol", &o, NULL, T0 + 3, &m),
			 SPACE_OK);
	ck_assert_int_eq(m->role, SPACE_PENDING);
	ck_assert_int_eq(space_mgr_friend(mgr, "alice", "bob", false), 0);
	ck_assert(!space_mgr_is_friend(mgr, "alice", "bob"));
}
END_TEST

START_TEST(packages_limit_start_switch_and_join)
{
	struct service limited = {
	    .id = "svc-dave",
	    .user = "dave",
	    .level = 1,
	    .capacity = 4,
	    .daily_limit = 7200,
	    .default_channel = "news",
	    .is_default = true,
	    .package = "news music",
	};
	struct space_offer o = video_offer("232.10.0.2", true);
	struct space_plan plan;
	struct space *sp;
	struct space_member *m = NULL;
	const struct channel *old = NULL;

	ck_assert_int_eq(catalog_add_service(cat, &limited), 0);
	ck_assert(
	    catalog_service_allows(catalog_service(cat, "svc-dave"), "news"));
	ck_assert(
	    !catalog_service_allows(catalog_service(cat, "svc-dave"), "new"));
	/* dave asks for sports by its group: not his */
	ck_assert_int_eq(space_plan_start(mgr, "dave", &o, T0, &plan),
			 SPACE_NOT_ENTITLED);
	/* in alice's space (no package) on news, dave may join ... */
	sp = start("alice", 1);
	o = video_offer("232.10.0.1", true);
	ck_assert_int_eq(space_join(sp, "dave", &o, NULL, T0 + 1, &m),
			 SPACE_OK);
	ck_assert(space_member_entitled(m, space_channel(sp)));
	ck_assert(!space_member_entitled(m, catalog_channel(cat, "sports")));
	/* ... alice may switch to sports, where he cannot follow */
	ck_assert_int_eq(space_switch(sp, "alice", "sports", &old), SPACE_OK);
	/* and nobody new whose package lacks it gets in */
	ck_assert_int_eq(space_join(sp, "dave", &o, NULL, T0 + 2, &m),
			 SPACE_ALREADY_MEMBER);
}
END_TEST

static Suite *space_suite(void)
{
	Suite *s = suite_create("space");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, start_uses_default_service_and_offered_group);
	tcase_add_test(tc, start_falls_back_to_bc_channel_then_default_channel);
	tcase_add_test(tc, start_unicast_offer_is_relay);
	tcase_add_test(tc, start_refuses_foreign_unknown_and_missing_service);
	tcase_add_test(tc, start_refuses_media_the_offer_cannot_take);
	tcase_add_test(tc, open_makes_the_starter_host);
	tcase_add_test(tc, join_is_pending_until_allowed);
	tcase_add_test(tc, join_refuses_member_again);
	tcase_add_test(tc, capacity_counts_admitted_members);
	tcase_add_test(tc, admission_holds_the_seat_at_once);
	tcase_add_test(tc, pending_expires_after_admission_timeout);
	tcase_add_test(tc, deny_and_remove);
	tcase_add_test(tc, open_space_admits_without_asking);
	tcase_add_test(tc, join_media_must_fit_the_channel);
	tcase_add_test(tc, switch_only_by_host_and_same_media);
	tcase_add_test(tc, handover_moves_the_remote);
	tcase_add_test(tc, grab_asks_the_host_or_passes_when_free);
	tcase_add_test(tc, restore_rebuilds_roles_and_order);
	tcase_add_test(tc, daily_limit_counts_live_and_booked_time);
	tcase_add_test(tc, close_frees_the_space);
	tcase_add_test(tc, lost_host_keeps_the_space_and_the_seat);
	tcase_add_test(tc, lost_host_comes_back_within_the_grace);
	tcase_add_test(tc, earliest_guest_is_promoted);
	tcase_add_test(tc, no_guest_no_promotion);
	tcase_add_test(tc, friends_of_the_host_come_in_unasked);
	tcase_add_test(tc, packages_limit_start_switch_and_join);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(space_suite());
}
