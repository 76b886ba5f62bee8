-- 001_init: identities, chats, every message and context-window resets.
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.

-- users: one row per identity on a platform. The identity's display name is
-- the latest non-empty one its messages carried.
CREATE TABLE users (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         text        NOT NULL CHECK (platform <> ''),
    platform_user_id text        NOT NULL CHECK (platform_user_id <> ''),
    display_name     text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    seen_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, platform_user_id)
);

-- chats: one row per chat (private chat, group, channel, thread).
CREATE TABLE chats (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         text        NOT NULL CHECK (platform <> ''),
    platform_chat_id text        NOT NULL CHECK (platform_chat_id <> ''),
    kind             text        NOT NULL DEFAULT '',
    title            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, platform_chat_id)
);

-- messages: every message, the user's and the assistant's. The decision
-- columns are NULL on messages without a routing decision (expert IS NULL
-- means "no decision").
--
-- The primary key is (user_ref, chat_ref, id), not id: the context window
-- (the last n messages of one user in one chat) reads it backwards from the
-- conversation's end, so its cost does not grow with the history. An index
-- on id alone would tempt the planner, when one user holds most rows (a
-- self-hosted assistant with one or two users), into scanning every
-- message backwards and filtering; without one, no plan can do that. id is
-- still unique: the identity column alone assigns it.
CREATE TABLE messages (
    id                   bigint      GENERATED ALWAYS AS IDENTITY,
    user_ref             bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_ref             bigint      NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    role                 text        NOT NULL CHECK (role IN ('user', 'assistant')),
    text                 text        NOT NULL,
    platform_message_id  text        NOT NULL DEFAULT '',
    expert               text,
    model                text,
    confidence           double precision,
    runner_up            text,
    runner_up_confidence double precision,
    fallback             boolean,
    forced               boolean,
    candidate            text,
    prompt_tokens        integer     NOT NULL DEFAULT 0,
    reply_tokens         integer     NOT NULL DEFAULT 0,
    latency_ms           bigint      NOT NULL DEFAULT 0,
    failed               boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL,
    CONSTRAINT messages_pkey PRIMARY KEY (user_ref, chat_ref, id)
);

-- Deleting a chat (and its foreign-key check) finds its messages here.
CREATE INDEX messages_chat_idx ON messages (chat_ref);
-- The night job reads a day of messages.
CREATE INDEX messages_created_at_idx ON messages (created_at);

-- conversation_resets: /reset. The context window of (user, chat) holds
-- only messages with id > after_id; older ones stay stored.
CREATE TABLE conversation_resets (
    user_ref bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_ref bigint      NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    after_id bigint      NOT NULL,
    reset_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_ref, chat_ref)
);

---- create above / drop below ----

DROP TABLE conversation_resets;
DROP TABLE messages;
DROP TABLE chats;
DROP TABLE users;
