-- A change of channel and/or host is one transaction: the old host is
-- demoted before the new one is promoted, so the one-host index holds at
-- every step.
CREATE FUNCTION tv_space_update(p_space bigint, p_channel text,
				p_new_host text, p_old_host text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	UPDATE spaces SET channel = coalesce(p_channel, channel)
	 WHERE id = p_space AND state = 'live';
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		RAISE EXCEPTION 'space % is not live', p_space;
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
