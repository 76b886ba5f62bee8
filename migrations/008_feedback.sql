-- 008_feedback: what users think of an answer (a reaction on Telegram or
-- Discord, /iyi or /kotu), one row per user and answer; the night keeps
-- answers marked bad out of the training files.
--
-- reply_ref is the answer's messages.ref ("a:m:<id>"); bot_messages maps the
-- platform's ids of the messages that showed an answer to that ref, so a
-- reaction on any part of a split answer finds it. platform_chat_id is the
-- chat the platform's messages live in; chat_id is the conversation's chat
-- (messages' chats.platform_chat_id), which differs in a Telegram forum topic
-- ("<chat>:<topic>"). feedback names the conversation's chat.
--
-- tern reads this file as a Go text/template: never write two opening
-- braces in a row here.
CREATE TABLE bot_messages (
    platform            text        NOT NULL,
    platform_chat_id    text        NOT NULL,
    platform_message_id text        NOT NULL,
    chat_id             text        NOT NULL,
    reply_ref           text        NOT NULL,
    created_at          timestamptz NOT NULL,
    PRIMARY KEY (platform, platform_chat_id, platform_message_id)
);

CREATE TABLE feedback (
    platform         text        NOT NULL,
    platform_chat_id text        NOT NULL,
    reply_ref        text        NOT NULL,
    platform_user_id text        NOT NULL,
    value            smallint    NOT NULL CHECK (value IN (-1, 1)),
    source           text        NOT NULL DEFAULT '',
    at               timestamptz NOT NULL,
    PRIMARY KEY (platform, platform_chat_id, reply_ref, platform_user_id)
);

-- The night reads the feedback given since the day it consolidates began.
CREATE INDEX feedback_at_idx ON feedback (at);

---- create above / drop below ----

DROP TABLE feedback;
DROP TABLE bot_messages;
