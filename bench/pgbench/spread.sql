-- Spread baseline: the same decrement on one of 100 rows at random.
\set id random(1, 100)
UPDATE bench_hot SET stock = stock - 1 WHERE id = :id AND stock > 0;
