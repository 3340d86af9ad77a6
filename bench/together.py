"""Two servers compared under one load that reaches both at the same moment.

Some settings cannot be switched on a running server (EDGECART_AUTH is read at start), so
bench/run starts two nodes on the same database, one per setting. Sending the load to one and
then the other (bench/alternate.py) leaves each side's windows at different moments, and on a
shared 2-core machine the moments differ by more than a token check costs. Here one wrk run
splits its threads between the two (bench/wrk/common.lua, BENCH_SPLIT_PORT): the same number of
connections on each side, for the same seconds, beside the same neighbours, PostgreSQL and wrk.
Every second both servers' metrics are read, and each window gives one ratio of A's answers
below 400 to B's, so a side that answers 401 quickly cannot look fast. A control pair of two
nodes with the same settings shows what the method itself leaves.

Usage: together.py --script user --route '/api/v1/users/{userId}' --method GET --seconds 60
           --a URL PID --b URL PID [VAR=VALUE ... for the load]
(A is the "on" side: the setting being measured; B the baseline.)

Prints the line bench/run reads from interleave.py: RESULT on_rps= off_rps= ratio= on_p50_ms=
on_p99_ms= off_p50_ms= off_p99_ms= on_errors= off_errors= on_cpu_us= off_cpu_us= windows=
cycle_ratio_min= cycle_ratio_median= cycle_ratio_max= (one "cycle" per window here). Latencies
come from each server's own histogram; cpu_us is a server's CPU time per good answer.
"""
import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

from interleave import cpu_seconds, result_line, scrape
from quantiles import quantile


class Side:
    """One server and what the windows added up to."""

    def __init__(self, url, pid, method, route):
        self.url, self.pid, self.method, self.route = url, int(pid), method, route
        self.good = self.errors = self.seconds = self.cpu = 0.0
        self.buckets, self.rates = {}, []

    def sample(self):
        return scrape(self.url, self.method, self.route), cpu_seconds(self.pid)

    def add(self, before, after, elapsed):
        ((statuses0, buckets0), cpu0), ((statuses1, buckets1), cpu1) = before, after
        delta = {s: v - statuses0.get(s, 0) for s, v in statuses1.items()}
        good = sum(v for s, v in delta.items() if int(s) < 400)
        self.good += good
        self.errors += sum(v for s, v in delta.items() if int(s) >= 400)
        self.seconds += elapsed
        self.cpu += cpu1 - cpu0
        for bound, value in buckets1.items():
            self.buckets[bound] = self.buckets.get(bound, 0) + value - buckets0.get(bound, 0)
        self.rates.append(good / elapsed)

    def rps(self):
        return self.good / self.seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", required=True, help="bench/wrk/NAME.lua")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--route", required=True, help="the route template the metrics name")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=64, help="per side")
    parser.add_argument("--warmup", type=float, default=5, help="untimed seconds first")
    parser.add_argument("--a", nargs=2, required=True, metavar=("URL", "PID"))
    parser.add_argument("--b", nargs=2, required=True, metavar=("URL", "PID"))
    parser.add_argument("assignments", nargs="*", metavar="VAR=VALUE")
    args = parser.parse_args()

    a = Side(*args.a, args.method, args.route)
    b = Side(*args.b, args.method, args.route)
    env = dict(os.environ, **dict(v.split("=", 1) for v in args.assignments))
    env["BENCH_SPLIT_PORT"] = str(urlparse(b.url).port)
    script = os.path.join(os.path.dirname(__file__), "wrk", f"{args.script}.lua")
    duration = args.warmup + args.seconds + 3
    load = subprocess.Popen(
        ["wrk", "-t4", f"-c{2 * args.connections}", f"-d{duration:.0f}s", "--timeout", "5s",
         "-s", script, a.url],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # Warm both as bench/run warms every scenario: verified tokens, prepared statements
        # and connections in place before anything is counted.
        time.sleep(args.warmup)
        deadline = time.monotonic() + args.seconds
        before, started = (a.sample(), b.sample()), time.monotonic()
        while time.monotonic() + args.window <= deadline:
            time.sleep(args.window)
            after, ended = (a.sample(), b.sample()), time.monotonic()
            a.add(before[0], after[0], ended - started)
            b.add(before[1], after[1], ended - started)
            before, started = after, ended
    finally:
        load.terminate()
        load.wait()

    if min(a.rates + b.rates) <= 0:
        sys.exit("a window had no good answer on one side: are the servers, route and tokens right?")
    ratios = [ra / rb for ra, rb in zip(a.rates, b.rates)]
    latency = [quantile(side.buckets, q) for side in (a, b) for q in (0.5, 0.99)]
    print(result_line(a, b, latency, (a.good, b.good), ratios))


if __name__ == "__main__":
    sys.exit(main())
