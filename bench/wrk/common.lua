-- Shared by every wrk scenario: numbers each thread and prints one machine-readable summary
-- line at the end. Errors are socket errors plus responses with a status of 400 or more.
--
-- With BENCH_SPLIT_PORT set, one wrk run loads two servers at once (bench/together.py): odd
-- threads send to the URL wrk was given (side "a"), even threads to 127.0.0.1 on that port
-- (side "b"). Each thread's Lua state then holds its `side`.
local threads = {}
local split_port = os.getenv("BENCH_SPLIT_PORT")
if split_port == "" then split_port = nil end

function setup(thread)
  local id = #threads + 1
  thread:set("id", id)
  if split_port then
    thread:set("side", id % 2 == 1 and "a" or "b")
    if id % 2 == 0 then
      thread.addr = wrk.lookup("127.0.0.1", split_port)[1]
    end
  end
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
-- the user's bearer token to a request's headers (only on side "a" when the load is split);
-- without it, the headers are unchanged.
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
  if tokens and side ~= "b" then
    headers["Authorization"] = "Bearer " .. tokens[user]
  end
  return headers
end
