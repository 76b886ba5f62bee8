-- 003_message_refs: each message is stored once, and a user message knows
-- whether it was answered.
--
-- ref makes a message unique within its chat ("m:<platform message id>",
-- "r:<random>", "a:<ref of the user message it answers>"), so a spool
-- replayed after a crash or a redelivered platform update never adds a
-- second row. reply_to, on an assistant message, names the ref of the user
-- message it answers: a recent user message no reply names is answered
-- after a restart. Rows from before this migration have empty refs and are
-- never deduplicated.
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
ALTER TABLE messages ADD COLUMN ref text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN reply_to text NOT NULL DEFAULT '';

CREATE UNIQUE INDEX messages_ref_key ON messages (chat_ref, ref) WHERE ref <> '';
CREATE INDEX messages_reply_to_idx ON messages (chat_ref, reply_to) WHERE reply_to <> '';

---- create above / drop below ----

DROP INDEX messages_reply_to_idx;
DROP INDEX messages_ref_key;
ALTER TABLE messages DROP COLUMN reply_to;
ALTER TABLE messages DROP COLUMN ref;
