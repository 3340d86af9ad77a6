-- Rule contract 0.2: products and users carry attributes (a JSON object of strings, checked
-- by the host: host/src/domain/attributes.rs), and users count their PAID orders, which the
-- order batch increments and a cancel decrements in their own transactions.
ALTER TABLE products
    ADD COLUMN attributes JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object');
ALTER TABLE users
    ADD COLUMN attributes JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    ADD COLUMN paid_orders BIGINT NOT NULL DEFAULT 0 CHECK (paid_orders >= 0);

-- The orders paid before this migration count too.
UPDATE users u SET paid_orders = paid.n
FROM (SELECT user_id, count(*) AS n FROM orders WHERE status = 'PAID' GROUP BY user_id) paid
WHERE u.id = paid.user_id;
