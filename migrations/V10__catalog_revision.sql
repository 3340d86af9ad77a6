-- One row: bumped in every operator transaction that creates or changes a product, so that
-- a node that missed the change's announcement on Redis notices from PostgreSQL and drops
-- its cached product answers (host/src/revisions.rs). Orders do not bump it: stock in a
-- cached read lags orders by at most EDGECART_PRODUCT_TTL_SECS.
CREATE TABLE catalog_revision (
    singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    revision   BIGINT  NOT NULL
);
INSERT INTO catalog_revision (revision) VALUES (0);
