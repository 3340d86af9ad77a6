-- The stock step of an order as one server-side call, so that an order's most contended rows
-- (a popular product's stock and its rollup bucket) can be written in the same round trip as
-- the COMMIT: their locks are then held for the statement and the commit only, never for a
-- client round trip.
--
-- For each line in the given (ascending product id) order: take the units if at least that
-- many are in stock and the price is still the one the order was priced with, and count the
-- sale in the hourly rollup. A line that cannot be taken aborts the transaction with a
-- dedicated SQLSTATE the host maps back to a domain error:
--   EC001  out of stock (or no such product)
--   EC002  the price changed since the order was priced: the host prices again
CREATE FUNCTION take_stock(
    product_ids BIGINT[], quantities BIGINT[], seen_prices BIGINT[], sold_at TIMESTAMPTZ
) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(cardinality(product_ids), 0) LOOP
        UPDATE products SET stock = stock - quantities[i]
         WHERE id = product_ids[i] AND stock >= quantities[i] AND price = seen_prices[i];
        IF NOT FOUND THEN
            IF EXISTS (SELECT 1 FROM products WHERE id = product_ids[i] AND price <> seen_prices[i]) THEN
                RAISE EXCEPTION 'the price of product % changed', product_ids[i]
                    USING ERRCODE = 'EC002';
            END IF;
            RAISE EXCEPTION 'product % has fewer than % units in stock', product_ids[i], quantities[i]
                USING ERRCODE = 'EC001';
        END IF;
        INSERT INTO product_sales_hourly (bucket, product_id, quantity)
        VALUES (date_trunc('hour', sold_at), product_ids[i], quantities[i])
        ON CONFLICT (bucket, product_id)
        DO UPDATE SET quantity = product_sales_hourly.quantity + EXCLUDED.quantity;
    END LOOP;
END
$$;

-- Order lines and rollup buckets point at products without a foreign key, on purpose. A
-- foreign-key check takes a KEY SHARE lock on the referenced row; on a popular product that
-- row is already locked by another order's stock update, so every check turned into a
-- multixact and the hot-SKU benchmark spent its time on MultiXact buffers. Products are never
-- deleted (no endpoint removes one), and an order's lines only name products whose stock
-- `take_stock` just took in the same transaction, so the reference holds by construction.
ALTER TABLE order_lines DROP CONSTRAINT order_lines_product_id_fkey;
ALTER TABLE product_sales_hourly DROP CONSTRAINT product_sales_hourly_product_id_fkey;
