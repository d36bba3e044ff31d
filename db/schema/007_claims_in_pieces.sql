-- A claim tells the other nodes which spaces moved: "claim NEW OLD ID,ID..."
-- on channel tvspace.  PostgreSQL refuses a payload of 8000 bytes or more,
-- so a claim of more than about a thousand spaces in one notification
-- failed, rolled back and was tried again for ever.  The ids now go in as
-- many notifications as they need, each under the limit, in the same
-- format (a reader takes each as it comes).  Otherwise as in 005_nodes.sql.
CREATE OR REPLACE FUNCTION tv_claim(p_node text)
RETURNS TABLE (space_id bigint, old_node text) LANGUAGE plpgsql AS $$
DECLARE
	orphans integer;
	alive integer;
	total integer;
	mine integer;
	share integer;
	r record;
	head text;        -- "claim NEW OLD " of the ids gathered
	ids text := '';   -- "ID,ID,..." not notified yet
	more text;
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
		more := CASE WHEN ids = '' THEN r.id::text
			     ELSE ids || ',' || r.id END;
		-- what is gathered goes out before another node's ids, or
		-- before this id would take it to the limit
		IF prev IS NOT NULL AND
		   (prev <> r.old OR octet_length(head || more) >= 8000) THEN
			PERFORM pg_notify('tvspace', head || ids);
			more := r.id::text;
		END IF;
		head := format('claim %s %s ', p_node, r.old);
		prev := r.old;
		ids := more;
	END LOOP;
	IF prev IS NOT NULL THEN
		PERFORM pg_notify('tvspace', head || ids);
	END IF;
END;
$$;
