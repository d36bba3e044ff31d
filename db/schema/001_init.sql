-- tvspace's data: the patent's service table (table 2) and member table
-- (table 3), the spaces, played time and comments.

CREATE TABLE users (
	user_id      text PRIMARY KEY,       -- the user part of the identity
	display_name text,
	ha1_md5      text,                   -- RFC 2617/7616 digest secrets
	ha1_sha256   text
);

CREATE TABLE service_levels (
	level        integer PRIMARY KEY,
	name         text NOT NULL,
	capacity     integer NOT NULL CHECK (capacity >= 1),
	daily_limit_s integer NOT NULL DEFAULT 0 CHECK (daily_limit_s >= 0),
	features     text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE services (
	service_default_id text PRIMARY KEY,
	user_id      text NOT NULL REFERENCES users ON DELETE CASCADE,
	level        integer NOT NULL REFERENCES service_levels,
	default_channel text,
	is_default   boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX services_one_default ON services (user_id)
	WHERE is_default;

CREATE TABLE spaces (
	id           bigserial PRIMARY KEY,
	host_service text NOT NULL,
	host_user    text NOT NULL,
	channel      text NOT NULL,
	state        text NOT NULL DEFAULT 'live'
		     CHECK (state IN ('live', 'ended')),
	is_open      boolean NOT NULL DEFAULT false,
	started      timestamptz NOT NULL DEFAULT now(),
	ended        timestamptz,
	end_reason   text,
	CHECK ((state = 'ended') = (ended IS NOT NULL))
);
CREATE INDEX spaces_live ON spaces (id) WHERE state = 'live';

CREATE TABLE members (
	id           bigserial PRIMARY KEY,
	space_id     bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
	user_id      text NOT NULL,
	service_default_id text,
	role         text NOT NULL CHECK (role IN ('host', 'guest')),
	delivery     text NOT NULL CHECK (delivery IN ('multicast', 'relay')),
	sdp_addr     text,
	sdp_port     integer CHECK (sdp_port BETWEEN 0 AND 65535),
	sdp_media    text,
	sdp_pt       integer CHECK (sdp_pt BETWEEN 0 AND 127),
	admitted_seq integer NOT NULL,
	-- the dialog, so a restarted server can take it up again
	call_id      text,
	local_tag    text,
	remote_tag   text,
	local_uri    text,
	remote_uri   text,
	remote_target text,
	route_set    text,
	joined       timestamptz NOT NULL DEFAULT now(),
	left_at      timestamptz,
	leave_reason text
);
-- one membership at a time per user and space, one host per live space
CREATE UNIQUE INDEX members_current ON members (space_id, user_id)
	WHERE left_at IS NULL;
CREATE UNIQUE INDEX members_one_host ON members (space_id)
	WHERE role = 'host' AND left_at IS NULL;

CREATE TABLE usage (
	service_default_id text NOT NULL,
	day          date NOT NULL,
	seconds      integer NOT NULL DEFAULT 0 CHECK (seconds >= 0),
	PRIMARY KEY (service_default_id, day)
);

CREATE TABLE comments (
	id           bigserial PRIMARY KEY,
	space_id     bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
	author       text NOT NULL,
	at           timestamptz NOT NULL DEFAULT now(),
	body         text NOT NULL
);
CREATE INDEX comments_by_space ON comments (space_id, id);
