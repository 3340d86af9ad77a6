-- GET /api/v1/users/{id} over BENCH_USERS users (with each user's token when BENCH_TOKENS is
-- set). Each user's request is formatted once per thread, so the client's work per request
-- is the same with and without tokens.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_USERS"))
local first = tonumber(os.getenv("BENCH_FIRST_USER"))
local requests = {}

function init(args)
  for user = first, first + n - 1 do
    requests[user] = wrk.format("GET", "/api/v1/users/" .. user, with_token({}, user))
  end
end

request = function()
  return requests[first + math.random(0, n - 1)]
end
