-- GET /api/v1/products/{id} over BENCH_PRODUCTS products.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_PRODUCTS"))
local first = tonumber(os.getenv("BENCH_FIRST_PRODUCT"))
request = function()
  return wrk.format("GET", "/api/v1/products/" .. (first + math.random(0, n - 1)))
end
