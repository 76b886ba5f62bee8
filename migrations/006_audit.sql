-- 006_audit: every admin command and every refused attempt (evo audit).
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
CREATE TABLE audit_log (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL,
    platform         text        NOT NULL,
    platform_user_id text        NOT NULL,
    command          text        NOT NULL,
    target           text        NOT NULL DEFAULT '',
    outcome          text        NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed'))
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

---- create above / drop below ----

DROP TABLE audit_log;
