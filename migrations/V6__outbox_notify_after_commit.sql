-- The NOTIFY of V5 ran inside every order transaction. PostgreSQL serializes the commits of
-- transactions that notify (a global lock held through the commit's WAL flush), which undid
-- group commit: orders over many products lost a third of their throughput. Nodes now wake
-- their own relay in process after a commit, and announce new events to other nodes' relays
-- with a NOTIFY of their own, outside the order transaction (see host/src/events/signal.rs).
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION notify_outbox();
