-- POST /api/v1/orders: every order buys one unit of the same product (the hot SKU), users
-- spread over BENCH_USERS.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_USERS"))
local first = tonumber(os.getenv("BENCH_FIRST_USER"))
local product = tonumber(os.getenv("BENCH_FIRST_PRODUCT"))
local price = tonumber(os.getenv("BENCH_FIRST_PRICE"))
local headers = { ["Content-Type"] = "application/json" }
request = function()
  local user = first + math.random(0, n - 1)
  local body = string.format('{"user_id": %d, "paymentAmount": %d, "products": [{"id": %d, "quantity": 1}]}',
    user, price, product)
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
