-- GET /api/v1/products/{id} over BENCH_PRODUCTS products, each with If-None-Match naming the
-- tag that product answered with just before (BENCH_ETAGS: "id tag" lines that bench/run
-- learns with one request per product), so an unchanged product answers 304 with no body.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_PRODUCTS"))
local first = tonumber(os.getenv("BENCH_FIRST_PRODUCT"))
local tags = {}
for line in io.lines(os.getenv("BENCH_ETAGS")) do
  local id, tag = line:match("^(%d+) (.+)$")
  if id then tags[tonumber(id)] = tag end
end
request = function()
  local id = first + math.random(0, n - 1)
  return wrk.format("GET", "/api/v1/products/" .. id, { ["If-None-Match"] = tags[id] })
end
