-- Shared by every wrk scenario: numbers each thread and prints one machine-readable summary
-- line at the end. Errors are socket errors plus responses with a status of 400 or more.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout + e.status))
end

-- With BENCH_TOKENS naming a file of "USER_ID TOKEN" lines (bench/tokens.py), with_token adds
-- the user's bearer token to a request's headers; without it, the headers are unchanged.
local tokens = nil
local tokens_file = os.getenv("BENCH_TOKENS")
if tokens_file and tokens_file ~= "" then
  tokens = {}
  for line in io.lines(tokens_file) do
    local user, token = line:match("^(%d+) (%S+)$")
    tokens[tonumber(user)] = token
  end
end

function with_token(headers, user)
  if tokens then
    headers["Authorization"] = "Bearer " .. tokens[user]
  end
  return headers
end
