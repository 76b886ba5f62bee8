-- 002_night_runs: the night job's runs, one row per consolidated day, so
-- that a day is processed once even with several instances or a restart in
-- the middle of the night.
--
-- A row with finished_at NULL is running (or died: a claim older than the
-- job's stale limit is taken over); error NOT NULL marks a failed run that
-- the next claim retries.
CREATE TABLE night_runs (
    day         date        PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    report      text        NOT NULL DEFAULT '',
    error       text
);

---- create above / drop below ----

DROP TABLE night_runs;
