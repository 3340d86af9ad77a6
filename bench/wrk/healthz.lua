-- Baseline: the cheapest route the server has.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
  return wrk.format("GET", "/healthz")
end
