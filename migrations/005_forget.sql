-- 005_forget: finding a user by @username (/wipe @name), and tombstones
-- that keep a forgotten user's words out of any night that runs or comes
-- later.
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
ALTER TABLE users ADD COLUMN username text NOT NULL DEFAULT '';
CREATE INDEX users_username_idx ON users (platform, lower(username)) WHERE username <> '';

CREATE TABLE forgotten_users (
    platform         text        NOT NULL CHECK (platform <> ''),
    platform_user_id text        NOT NULL CHECK (platform_user_id <> ''),
    forgotten_at     timestamptz NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
);

---- create above / drop below ----

DROP TABLE forgotten_users;
DROP INDEX users_username_idx;
ALTER TABLE users DROP COLUMN username;
