-- GET /api/v1/products/popular (served from the in-process cache).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
  return wrk.format("GET", "/api/v1/products/popular")
end
