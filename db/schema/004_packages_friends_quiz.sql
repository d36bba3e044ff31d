-- Entitlements, friends and quizzes (PROTOCOL.md "Entitlements", "Friends",
-- "Quiz").

-- A service's channel package: the ids of the channels it may watch; NULL
-- for every channel of the lineup.
ALTER TABLE services ADD COLUMN package text[];

-- A user's friends: with auto_admit = friends, a host's friends join its
-- spaces without being asked.  The friend must be a known user; the owner
-- of the list is whoever the identity says (it may have no users row).
CREATE TABLE friends (
	user_id   text NOT NULL,
	friend_id text NOT NULL REFERENCES users ON DELETE CASCADE,
	added     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, friend_id),
	CHECK (user_id <> friend_id)
);

-- /friend and /unfriend: 1 when done, 0 when there is no such user.
CREATE FUNCTION tv_friend(p_user text, p_friend text, p_on boolean)
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
	IF p_user = p_friend OR
	   NOT EXISTS (SELECT 1 FROM users WHERE user_id = p_friend) THEN
		RETURN 0;
	END IF;
	IF p_on THEN
		INSERT INTO friends (user_id, friend_id)
		VALUES (p_user, p_friend) ON CONFLICT DO NOTHING;
	ELSE
		DELETE FROM friends
		 WHERE user_id = p_user AND friend_id = p_friend;
	END IF;
	RETURN 1;
END;
$$;

-- A quiz as it ended: the question, the answers and how many chose each,
-- with the programme on the space's channel when it was asked.
CREATE TABLE quizzes (
	id        bigserial PRIMARY KEY,
	space_id  bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
	asked_by  text NOT NULL,
	channel   text,
	programme text,
	question  text NOT NULL,
	answers   text[] NOT NULL,
	tally     integer[] NOT NULL,
	asked     timestamptz NOT NULL,
	ended     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quizzes_space ON quizzes (space_id);
