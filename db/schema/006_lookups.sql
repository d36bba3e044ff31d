-- Subscribers are looked up when they act, not loaded at start (issue 15):
-- an index for every lookup, and NOTIFY per changed row so a node's cache
-- drops only what changed.  The payloads on channel "tvspace" are now
--   service ID USER          that service changed (inserted, updated,
--                            deleted); an update that moves it to another
--                            user or id names the old pair too
--   services *               a statement changed more than 100 services
--                            (or a name that a reader could not split on
--                            spaces): drop every cached service
--   levels                   service_levels changed: load them again
--   friend USER FRIEND on|off   USER's friend list gained or lost FRIEND
--   friends *                more than 100 friendships changed at once
-- besides "claim" and "release" of 005_nodes.sql.  They replace the old
-- "services" (load everything again).

-- services by id: its primary key; by user (the default service of whoever
-- calls): this index.  usage by (service, day) and friends by user: their
-- primary keys.
CREATE INDEX services_by_user ON services (user_id);

DROP TRIGGER services_changed ON services;
DROP TRIGGER service_levels_changed ON service_levels;
DROP FUNCTION tv_services_changed();
DROP TRIGGER friends_changed ON friends;
DROP FUNCTION tv_friends_changed();

-- One row's notification, or the bulk one when a word of it would not read
-- back (a reader splits the payload on spaces; PostgreSQL refuses payloads
-- of 8000 bytes or more).
CREATE FUNCTION tv_notify_row(p_payload text, p_words text[], p_bulk text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF octet_length(p_payload) < 8000 AND NOT EXISTS (
		SELECT 1 FROM unnest(p_words) w
		 WHERE w IS NULL OR w = '' OR w ~ '\s') THEN
		PERFORM pg_notify('tvspace', p_payload);
	ELSE
		PERFORM pg_notify('tvspace', p_bulk);
	END IF;
END;
$$;

-- In PostgreSQL 15 a trigger with transition tables takes one event, hence
-- one trigger per INSERT, UPDATE and DELETE, all on this function.  A
-- statement of more than 100 rows sends one bulk notification: a million
-- rows provisioned at once are one message, not a million.
CREATE FUNCTION tv_services_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN
		SELECT count(*) INTO n FROM (SELECT 1 FROM old_rows LIMIT 101) x;
	ELSE
		SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 101) x;
	END IF;
	IF n > 100 THEN
		PERFORM pg_notify('tvspace', 'services *');
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		FOR r IN SELECT service_default_id AS id, user_id AS u
			   FROM new_rows LOOP
			PERFORM tv_notify_row(format('service %s %s', r.id, r.u),
					      ARRAY[r.id, r.u], 'services *');
		END LOOP;
	ELSIF TG_OP = 'UPDATE' THEN
		-- the new pair, and the old one when the row moved
		FOR r IN SELECT service_default_id AS id, user_id AS u
			   FROM new_rows
			 UNION
			 SELECT service_default_id, user_id FROM old_rows LOOP
			PERFORM tv_notify_row(format('service %s %s', r.id, r.u),
					      ARRAY[r.id, r.u], 'services *');
		END LOOP;
	ELSE
		FOR r IN SELECT service_default_id AS id, user_id AS u
			   FROM old_rows LOOP
			PERFORM tv_notify_row(format('service %s %s', r.id, r.u),
					      ARRAY[r.id, r.u], 'services *');
		END LOOP;
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER services_inserted AFTER INSERT ON services
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION tv_services_changed();
CREATE TRIGGER services_updated AFTER UPDATE ON services
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION tv_services_changed();
CREATE TRIGGER services_deleted AFTER DELETE ON services
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION tv_services_changed();

CREATE FUNCTION tv_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('tvspace', TG_ARGV[0]);
	RETURN NULL;
END;
$$;
CREATE TRIGGER services_truncated AFTER TRUNCATE ON services
	FOR EACH STATEMENT EXECUTE FUNCTION tv_notify_all('services *');
-- The levels are a small table every node keeps whole.
CREATE TRIGGER service_levels_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_levels
	FOR EACH STATEMENT EXECUTE FUNCTION tv_notify_all('levels');

-- Friend lists: "friend USER FRIEND on" for a friendship made, "off" for
-- one gone (an update that changes the pair is both).
CREATE FUNCTION tv_friends_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN
		SELECT count(*) INTO n FROM (SELECT 1 FROM old_rows LIMIT 101) x;
	ELSE
		SELECT count(*) INTO n FROM (SELECT 1 FROM new_rows LIMIT 101) x;
	END IF;
	IF n > 100 THEN
		PERFORM pg_notify('tvspace', 'friends *');
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		FOR r IN SELECT user_id AS u, friend_id AS f FROM old_rows
			 EXCEPT SELECT user_id, friend_id FROM new_rows LOOP
			PERFORM tv_notify_row(format('friend %s %s off', r.u, r.f),
					      ARRAY[r.u, r.f], 'friends *');
		END LOOP;
		FOR r IN SELECT user_id AS u, friend_id AS f FROM new_rows
			 EXCEPT SELECT user_id, friend_id FROM old_rows LOOP
			PERFORM tv_notify_row(format('friend %s %s on', r.u, r.f),
					      ARRAY[r.u, r.f], 'friends *');
		END LOOP;
	ELSIF TG_OP = 'INSERT' THEN
		FOR r IN SELECT user_id AS u, friend_id AS f FROM new_rows LOOP
			PERFORM tv_notify_row(format('friend %s %s on', r.u, r.f),
					      ARRAY[r.u, r.f], 'friends *');
		END LOOP;
	ELSE
		FOR r IN SELECT user_id AS u, friend_id AS f FROM old_rows LOOP
			PERFORM tv_notify_row(format('friend %s %s off', r.u, r.f),
					      ARRAY[r.u, r.f], 'friends *');
		END LOOP;
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER friends_inserted AFTER INSERT ON friends
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION tv_friends_changed();
CREATE TRIGGER friends_updated AFTER UPDATE ON friends
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION tv_friends_changed();
CREATE TRIGGER friends_deleted AFTER DELETE ON friends
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION tv_friends_changed();
CREATE TRIGGER friends_truncated AFTER TRUNCATE ON friends
	FOR EACH STATEMENT EXECUTE FUNCTION tv_notify_all('friends *');
