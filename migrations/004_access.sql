-- 004_access: who may use EVO-TR beyond the admins and ALLOWED_USERS, and
-- the one-time codes that let a stranger in (ACCESS_MODE=pairing).
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
CREATE TABLE approved_users (
    platform         text        NOT NULL CHECK (platform <> ''),
    platform_user_id text        NOT NULL CHECK (platform_user_id <> ''),
    display_name     text        NOT NULL DEFAULT '',
    approved_by      text        NOT NULL DEFAULT '',
    approved_at      timestamptz NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
);

-- One live code per user: asking again replaces it.
CREATE TABLE pairing_codes (
    code             text        PRIMARY KEY,
    platform         text        NOT NULL CHECK (platform <> ''),
    platform_user_id text        NOT NULL CHECK (platform_user_id <> ''),
    display_name     text        NOT NULL DEFAULT '',
    expires_at       timestamptz NOT NULL,
    UNIQUE (platform, platform_user_id)
);

---- create above / drop below ----

DROP TABLE pairing_codes;
DROP TABLE approved_users;
