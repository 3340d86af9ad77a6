-- An event's created_at is the time the statement stored it, not its transaction's start: the
-- order transaction stores its event last, beside the commit, so the relay's lag and the
-- commit-to-notification delay are measured from (nearly) the commit.
ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT clock_timestamp();
