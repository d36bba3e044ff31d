-- Several tvspaced nodes on one database (docs/scaling.md).  Each node holds
-- a lease that it renews; each live space names the node that serves it.
-- When a node's lease runs out, the others claim its spaces here, in the
-- database, so a space has one owner at every moment.  Nodes hear of what
-- they must act on through NOTIFY on the channel "tvspace":
--   claim NEW OLD ID,ID...   NEW took these spaces of OLD
--   release NODE             NODE stopped serving; claim its spaces now
--   friend USER FRIEND on|off
--   services                 services or levels changed: load them again
CREATE TABLE nodes (
	node_id     text PRIMARY KEY,
	sip_uri     text NOT NULL,        -- where the proxy reaches the node
	lease_until timestamptz NOT NULL,
	started     timestamptz NOT NULL DEFAULT now()
);

-- NULL: a space of a server that runs alone (no node_id configured).
ALTER TABLE spaces ADD COLUMN node_id text;
CREATE INDEX spaces_live_node ON spaces (node_id) WHERE state = 'live';

-- Renew (or take) NODE's lease for LEASE_S seconds.  Returns true when the
-- lease had run out before this renewal (or the node is new): whatever the
-- node held may have been claimed meanwhile.
CREATE FUNCTION tv_node_renew(p_node text, p_uri text, p_lease_s integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	was timestamptz;
BEGIN
	SELECT lease_until INTO was FROM nodes WHERE node_id = p_node
	   FOR UPDATE;
	INSERT INTO nodes (node_id, sip_uri, lease_until)
	VALUES (p_node, p_uri, now() + make_interval(secs => p_lease_s))
	ON CONFLICT (node_id) DO UPDATE
	   SET sip_uri = excluded.sip_uri,
	       lease_until = excluded.lease_until;
	RETURN was IS NULL OR was < now();
END;
$$;

-- NODE stops: its lease ends now, so the others may claim its spaces.
CREATE FUNCTION tv_node_release(p_node text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	UPDATE nodes SET lease_until = now() - interval '1 second'
	 WHERE node_id = p_node;
	PERFORM pg_notify('tvspace', 'release ' || p_node);
END;
$$;

-- NODE claims its share of the live spaces whose node's lease has run out:
-- as many as bring it up to the live nodes' average of live spaces, so the
-- survivors end up with even loads (in one round each, when they all look
-- within a lease).  A node whose own lease has run out claims nothing.
-- Rows locked by a concurrent claim are skipped, and a space claimed
-- meanwhile no longer matches, so each space moves once.
CREATE FUNCTION tv_claim(p_node text)
RETURNS TABLE (space_id bigint, old_node text) LANGUAGE plpgsql AS $$
DECLARE
	orphans integer;
	alive integer;
	total integer;
	mine integer;
	share integer;
	r record;
	ids text := '';
	prev text := NULL;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nodes
		       WHERE node_id = p_node AND lease_until > now()) THEN
		RETURN;
	END IF;
	SELECT count(*) INTO orphans
	  FROM spaces s JOIN nodes n ON n.node_id = s.node_id
	 WHERE s.state = 'live' AND n.lease_until <= now();
	IF orphans = 0 THEN
		RETURN;
	END IF;
	SELECT count(*) INTO alive FROM nodes WHERE lease_until > now();
	SELECT count(*), count(*) FILTER (WHERE node_id = p_node)
	  INTO total, mine FROM spaces WHERE state = 'live';
	share := ceil(total::numeric / greatest(alive, 1)) - mine;
	IF share <= 0 THEN
		RETURN;
	END IF;
	FOR r IN
		WITH picked AS (
			SELECT s.id, s.node_id
			  FROM spaces s JOIN nodes n ON n.node_id = s.node_id
			 WHERE s.state = 'live' AND n.lease_until <= now()
			 ORDER BY s.node_id, s.id
			 LIMIT share
			 FOR UPDATE OF s SKIP LOCKED)
		UPDATE spaces s SET node_id = p_node
		  FROM picked p WHERE s.id = p.id
		RETURNING s.id, p.node_id AS old
	LOOP
		space_id := r.id;
		old_node := r.old;
		RETURN NEXT;
		IF prev IS NOT NULL AND prev <> r.old THEN
			PERFORM pg_notify('tvspace', format('claim %s %s %s',
						  p_node, prev, ids));
			ids := '';
		END IF;
		prev := r.old;
		ids := ids || CASE WHEN ids = '' THEN '' ELSE ',' END || r.id;
	END LOOP;
	IF prev IS NOT NULL THEN
		PERFORM pg_notify('tvspace', format('claim %s %s %s', p_node,
						  prev, ids));
	END IF;
END;
$$;

-- Friend lists are held in memory by every node: tell them of a change,
-- whoever makes it (tv_friend() or provisioning).
CREATE FUNCTION tv_friends_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM pg_notify('tvspace', format('friend %s %s on',
						  NEW.user_id, NEW.friend_id));
	ELSE
		PERFORM pg_notify('tvspace', format('friend %s %s off',
						  OLD.user_id, OLD.friend_id));
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER friends_changed AFTER INSERT OR DELETE ON friends
	FOR EACH ROW EXECUTE FUNCTION tv_friends_changed();

-- Provisioning writes services and levels; every node loads them again.
CREATE FUNCTION tv_services_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('tvspace', 'services');
	RETURN NULL;
END;
$$;
CREATE TRIGGER services_changed AFTER INSERT OR UPDATE OR DELETE
	ON services FOR EACH STATEMENT EXECUTE FUNCTION tv_services_changed();
CREATE TRIGGER service_levels_changed AFTER INSERT OR UPDATE OR DELETE
	ON service_levels FOR EACH STATEMENT
	EXECUTE FUNCTION tv_services_changed();
