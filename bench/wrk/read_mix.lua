-- A read mix as edge nodes see it: product details over BENCH_PRODUCTS products (80 %), list
-- pages of 100 sizes (10 %), the popular list (5 %) and users' balances over BENCH_USERS
-- users (5 %, a user's own data: always read on the primary).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local products = tonumber(os.getenv("BENCH_PRODUCTS"))
local first_product = tonumber(os.getenv("BENCH_FIRST_PRODUCT"))
local users = tonumber(os.getenv("BENCH_USERS"))
local first_user = tonumber(os.getenv("BENCH_FIRST_USER"))
request = function()
  local pick = math.random(1, 100)
  if pick <= 80 then
    return wrk.format("GET", "/api/v1/products/" .. (first_product + math.random(0, products - 1)))
  elseif pick <= 90 then
    return wrk.format("GET", "/api/v1/products?limit=" .. math.random(1, 100))
  elseif pick <= 95 then
    return wrk.format("GET", "/api/v1/products/popular")
  end
  return wrk.format("GET", "/api/v1/users/" .. (first_user + math.random(0, users - 1)))
end
