-- The patent's two tables where an operator looks (issue 20), and what a
-- member needs of its own (issues 14, 18, 19).

-- The programme on a live space's channel now, from the guide: written
-- when the channel changes or the guide moves on; NULL when the guide says
-- nothing of that channel.
ALTER TABLE spaces ADD COLUMN programme_title text,
		   ADD COLUMN programme_start timestamptz,
		   ADD COLUMN programme_stop timestamptz;

-- channel: what the member receives when it is not the space's channel (it
-- could not follow a switch: not in its package, or it refused the
-- re-INVITE); NULL while it follows.  local_sdp: the last SDP body the
-- server sent in the member's dialog, so that a restart re-offers the same
-- session (payload types, telephone-event, directions, the o= line).
ALTER TABLE members ADD COLUMN channel text,
		    ADD COLUMN local_sdp text;

-- service_status finds a service's live spaces by this; space_info a
-- user's memberships by the second.
CREATE INDEX spaces_live_host ON spaces (host_service) WHERE state = 'live';
CREATE INDEX members_current_user ON members (user_id) WHERE left_at IS NULL;

-- As in 002, and: a change of channel clears the programme (the old
-- channel's is not the new one's: the server writes the new one after),
-- and a member that was left behind on the channel switched to follows
-- again.
CREATE OR REPLACE FUNCTION tv_space_update(p_space bigint, p_channel text,
					   p_new_host text, p_old_host text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	UPDATE spaces SET channel = coalesce(p_channel, channel),
			  programme_title = CASE WHEN p_channel IS NULL OR
				p_channel = channel THEN programme_title END,
			  programme_start = CASE WHEN p_channel IS NULL OR
				p_channel = channel THEN programme_start END,
			  programme_stop = CASE WHEN p_channel IS NULL OR
				p_channel = channel THEN programme_stop END
	 WHERE id = p_space AND state = 'live';
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		RAISE EXCEPTION 'space % is not live', p_space;
	END IF;
	IF p_channel IS NOT NULL THEN
		UPDATE members SET channel = NULL
		 WHERE space_id = p_space AND channel = p_channel
		   AND left_at IS NULL;
	END IF;
	IF p_new_host IS NOT NULL THEN
		UPDATE members SET role = 'guest'
		 WHERE space_id = p_space AND user_id = p_old_host
		   AND left_at IS NULL;
		UPDATE members SET role = 'host'
		 WHERE space_id = p_space AND user_id = p_new_host
		   AND left_at IS NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n = 0 THEN
			RAISE EXCEPTION 'no member % in space %', p_new_host,
				p_space;
		END IF;
	END IF;
	RETURN 1;
END;
$$;

-- The patent's service status table (table 2), one row per service: its
-- level, capacity, daily play limit, the time played today, the members of
-- its space now and the programme they watch; then what an operator needs
-- beside them.  "Today" is current_date in the session's TimeZone: give
-- the database tvspaced's time zone (ALTER DATABASE ... SET timezone) so
-- that both mean the same day.  played_s is the time booked to usage for
-- today (booked_s) plus the time its live spaces played since they were
-- last booked (at most since midnight).  A service hosting no live space
-- has 0 members and no programme.  Read by primary key and the partial
-- indexes only: ask for one service with WHERE service_default_id = ...
CREATE VIEW service_status AS
SELECT s.service_default_id,
       s.level AS service_level,
       l.capacity,
       l.daily_limit_s,
       coalesce(u.seconds, 0) + coalesce(live.unbooked_s, 0) AS played_s,
       coalesce(live.members, 0) AS current_members,
       cur.programme_title AS current_programme,
       s.user_id,
       l.name AS level_name,
       s.default_channel,
       s.is_default,
       s.package,
       coalesce(u.seconds, 0) AS booked_s,
       coalesce(live.spaces, 0) AS live_spaces,
       cur.id AS space_id,
       cur.channel,
       cur.programme_start,
       cur.programme_stop,
       cur.node_id
  FROM services s
  JOIN service_levels l ON l.level = s.level
  LEFT JOIN usage u ON u.service_default_id = s.service_default_id
		   AND u.day = current_date
  LEFT JOIN LATERAL (
	SELECT count(*)::integer AS spaces,
	       sum((SELECT count(*) FROM members m
		     WHERE m.space_id = sp.id AND m.left_at IS NULL)
		  )::integer AS members,
	       sum(greatest(0, floor(extract(epoch FROM now() - greatest(
			coalesce(sp.booked_until, sp.started),
			current_date::timestamptz)))))::integer AS unbooked_s
	  FROM spaces sp
	 WHERE sp.host_service = s.service_default_id AND sp.state = 'live'
  ) live ON true
  -- the latest of its live spaces (there is one, as a rule)
  LEFT JOIN LATERAL (
	SELECT sp.id, sp.channel, sp.programme_title, sp.programme_start,
	       sp.programme_stop, sp.node_id
	  FROM spaces sp
	 WHERE sp.host_service = s.service_default_id AND sp.state = 'live'
	 ORDER BY sp.started DESC, sp.id DESC
	 LIMIT 1
  ) cur ON true;

-- The patent's space information table (table 3), one row per current
-- member of a live space: the Service Default ID, the User ID, Host or
-- Guest, the SDP attributes; then the space, the channel the member
-- receives (its own when it could not follow the space's: follows false),
-- and its dialog's id.
CREATE VIEW space_info AS
SELECT m.service_default_id,
       m.user_id,
       m.role,
       m.sdp_addr,
       m.sdp_port,
       m.sdp_media,
       m.sdp_pt,
       m.space_id,
       m.delivery,
       coalesce(m.channel, sp.channel) AS channel,
       m.channel IS NULL AS follows,
       sp.channel AS space_channel,
       sp.programme_title,
       sp.host_service,
       sp.host_user,
       m.admitted_seq,
       m.joined,
       m.call_id,
       sp.node_id
  FROM members m
  JOIN spaces sp ON sp.id = m.space_id
 WHERE m.left_at IS NULL AND sp.state = 'live';
