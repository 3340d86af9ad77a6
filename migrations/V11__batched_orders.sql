-- Orders are now committed in batches (host/src/service/orders/batch.rs): the batch locks its
-- products and payers with SELECT … FOR UPDATE, admits orders in the host, and writes each
-- table with one set-based statement. The per-order stock step of V3 has no caller left.
DROP FUNCTION take_stock(BIGINT[], BIGINT[], BIGINT[], TIMESTAMPTZ);
