-- GET /api/v1/users/{id} over BENCH_USERS users (with each user's token when BENCH_TOKENS is set).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_USERS"))
local first = tonumber(os.getenv("BENCH_FIRST_USER"))
request = function()
  local user = first + math.random(0, n - 1)
  return wrk.format("GET", "/api/v1/users/" .. user, with_token({}, user))
end
