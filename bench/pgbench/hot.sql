-- Baseline B: one hot row, the stock decrement an order makes, on a table of its own.
UPDATE bench_hot SET stock = stock - 1 WHERE id = 1 AND stock > 0;
