-- GET /api/v1/users/{id} over BENCH_USERS users.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_USERS"))
local first = tonumber(os.getenv("BENCH_FIRST_USER"))
request = function()
  return wrk.format("GET", "/api/v1/users/" .. (first + math.random(0, n - 1)))
end
