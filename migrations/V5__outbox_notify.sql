-- Wakes the outbox relays: one notification per transaction that stored events (PostgreSQL
-- folds identical notifications of a transaction into one and delivers them at commit). The
-- relays also poll, so a missed notification only delays delivery.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('edgecart_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

-- The purge of published rows finds them without scanning the table.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
