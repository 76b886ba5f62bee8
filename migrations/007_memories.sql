-- 007_memories: long-term memories are rows here; Chroma is the search
-- index over them (evo memory reindex rebuilds it from these rows).
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
CREATE TABLE memories (
    platform         text        NOT NULL CHECK (platform <> ''),
    platform_user_id text        NOT NULL CHECK (platform_user_id <> ''),
    id               text        NOT NULL CHECK (id <> ''),
    -- day is the night's day (SLEEP_TIMEZONE) that distilled the memory;
    -- NULL for a memory no night wrote. A re-run of a day replaces the
    -- day's rows.
    day              date,
    text             text        NOT NULL,
    tags             text[]      NOT NULL DEFAULT '{}',
    -- source_ids are the ids of the messages the memory came from.
    source_ids       bigint[]    NOT NULL DEFAULT '{}',
    happened_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (platform, platform_user_id, id)
);
CREATE INDEX memories_day_idx ON memories (platform, platform_user_id, day);

---- create above / drop below ----

DROP TABLE memories;
