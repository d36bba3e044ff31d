-- Demo subscribers for scripts/demo.sh and the tests.  Safe to run again:
-- it puts the demo rows back as they are written here.
INSERT INTO service_levels (level, name, capacity, daily_limit_s, features)
VALUES (1, 'basic', 4, 7200, '{}'),
       (2, 'family', 8, 14400, '{quiz}'),
       (3, 'premium', 50, 0, '{quiz,relay}')
ON CONFLICT (level) DO UPDATE
	SET name = EXCLUDED.name, capacity = EXCLUDED.capacity,
	    daily_limit_s = EXCLUDED.daily_limit_s,
	    features = EXCLUDED.features;

-- Every demo user's SIP digest password is "tvspace", in the demo realm
-- tvspace.test (the domain of etc/demo.conf and the tests): HA1 =
-- H(user:realm:password), RFC 7616 §3.4.2, with MD5 and with SHA-256.
INSERT INTO users (user_id, display_name, ha1_md5, ha1_sha256)
SELECT u, d, md5(u || ':tvspace.test:tvspace'),
       encode(sha256(convert_to(u || ':tvspace.test:tvspace', 'UTF8')), 'hex')
FROM (VALUES ('alice', 'Alice'), ('bob', 'Bob'), ('carol', 'Carol'),
             ('dave', 'Dave'), ('erin', 'Erin'), ('frank', 'Frank')) v (u, d)
ON CONFLICT (user_id) DO UPDATE
	SET display_name = EXCLUDED.display_name,
	    ha1_md5 = EXCLUDED.ha1_md5, ha1_sha256 = EXCLUDED.ha1_sha256;

-- package: the channels a service may watch (NULL: all).  dave's basic
-- service has neither Movies HD nor Kids Radio.
INSERT INTO services (service_default_id, user_id, level, default_channel,
		      is_default, package)
VALUES ('svc-alice', 'alice', 1, 'news', true, NULL),
       ('svc-bob', 'bob', 2, 'news', true, NULL),
       ('svc-bob-premium', 'bob', 3, 'sports', false, NULL),
       ('svc-carol', 'carol', 2, 'news', true, NULL),
       ('svc-dave', 'dave', 1, 'news', true, '{news,sports,music}'),
       ('svc-erin', 'erin', 3, 'news', true, NULL),
       ('svc-frank', 'frank', 1, 'music', true, NULL)
ON CONFLICT (service_default_id) DO UPDATE
	SET user_id = EXCLUDED.user_id, level = EXCLUDED.level,
	    default_channel = EXCLUDED.default_channel,
	    is_default = EXCLUDED.is_default, package = EXCLUDED.package;
