-- 009_night_progress: which users a night has finished, so that a night
-- that crashed resumes with the users not done (a user is marked once
-- their memories are written; /sleep clears the day before re-running it).
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
CREATE TABLE night_progress (
    day              date        NOT NULL,
    platform         text        NOT NULL,
    platform_user_id text        NOT NULL,
    done_at          timestamptz NOT NULL,
    PRIMARY KEY (day, platform, platform_user_id)
);

---- create above / drop below ----

DROP TABLE night_progress;
