-- POST /api/v1/users/{id}/charge with a unique Idempotency-Key per request, over BENCH_USERS users.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = tonumber(os.getenv("BENCH_USERS"))
local first = tonumber(os.getenv("BENCH_FIRST_USER"))
local run = os.getenv("BENCH_RUN_ID")
local phase = os.getenv("BENCH_PHASE") or "alternate"
-- bench/alternate.py runs this script once per window without a phase: a nonce per load keeps
-- every window's keys unique.
math.randomseed(os.time() + math.floor(os.clock() * 1e6))
local nonce = math.random(1, 1000000000)
local counter = 0
local headers = { ["Content-Type"] = "application/json" }
request = function()
  counter = counter + 1
  headers["Idempotency-Key"] = run .. "-" .. phase .. "-" .. nonce .. "-" .. id .. "-" .. counter
  local user = first + math.random(0, n - 1)
  return wrk.format("POST", "/api/v1/users/" .. user .. "/charge", headers, '{"chargeAmount": 1000}')
end
