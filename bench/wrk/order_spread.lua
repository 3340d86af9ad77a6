-- POST /api/v1/orders over BENCH_PRODUCTS products and BENCH_USERS users; product k (from 0)
-- costs BENCH_FIRST_PRICE + k, as bench/run seeds them. With BENCH_TOKENS set, each order
-- carries its user's token.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local users = tonumber(os.getenv("BENCH_USERS"))
local products = tonumber(os.getenv("BENCH_PRODUCTS"))
local first_user = tonumber(os.getenv("BENCH_FIRST_USER"))
local first_product = tonumber(os.getenv("BENCH_FIRST_PRODUCT"))
local first_price = tonumber(os.getenv("BENCH_FIRST_PRICE"))
request = function()
  local k = math.random(0, products - 1)
  local user = first_user + math.random(0, users - 1)
  local body = string.format('{"user_id": %d, "paymentAmount": %d, "products": [{"id": %d, "quantity": 1}]}',
    user, first_price + k, first_product + k)
  return wrk.format("POST", "/api/v1/orders", with_token({ ["Content-Type"] = "application/json" }, user), body)
end
