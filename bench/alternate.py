"""Two servers compared under alternating windows of the same load: A B B A.

Some settings cannot be switched on a running server (EDGECART_AUTH is read at start), so
bench/run starts two nodes on the same database, one per setting, and this script sends the
load to them in turn, in the order A B B A, one short wrk run per window. Drift slower than a
few windows (checkpoints, table growth, neighbours on the host) hits both sides alike, as in
bench/interleave.py. A request is counted only if wrk saw a status below 400, so a side that
answers 401 quickly cannot look fast.

The two sides may also be two routes of one server (`--b-script`): a route against the
cheapest one, `/healthz`, in alternating windows instead of one run each minutes apart.

Usage: alternate.py --script user [--b-script healthz] --seconds 60 --window 5
           [--warmup 5] --a URL PID [VAR=VALUE ...] --b URL PID [VAR=VALUE ...]
(A is the "on" side: the setting or route being measured; B the baseline.)

Prints one line with the fields bench/run reads from interleave.py: RESULT on_rps= off_rps=
ratio= on_p50_ms= on_p99_ms= off_p50_ms= off_p99_ms= on_errors= off_errors= on_cpu_us=
off_cpu_us= windows= cycle_ratio_min= cycle_ratio_median= cycle_ratio_max=. Latencies are the
median over a side's windows of wrk's per-window percentiles.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

from interleave import cpu_seconds, result_line

RESULT = re.compile(r"RESULT rps=(\S+) p50_ms=(\S+) p99_ms=(\S+) requests=(\d+) errors=(\d+)")


class Side:
    """One server and what its windows added up to."""

    def __init__(self, spec, script):
        self.script = script
        self.url, self.pid, *assignments = spec
        self.pid = int(self.pid)
        self.env = dict(os.environ, **dict(a.split("=", 1) for a in assignments))
        self.good = self.errors = self.seconds = self.cpu = 0.0
        self.p50, self.p99, self.rates = [], [], []

    def window(self, seconds, connections):
        cpu_before = cpu_seconds(self.pid)
        output = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
             "-s", self.script, self.url],
            env=self.env, capture_output=True, text=True, check=True,
        ).stdout
        cpu = cpu_seconds(self.pid) - cpu_before
        match = RESULT.search(output)
        if not match:
            sys.exit(f"wrk printed no RESULT line:\n{output}")
        rps, p50, p99, requests, errors = (float(g) for g in match.groups())
        elapsed = requests / rps if rps else seconds
        good = requests - errors
        self.good += good
        self.errors += errors
        self.seconds += elapsed
        self.cpu += cpu
        self.p50.append(p50)
        self.p99.append(p99)
        self.rates.append(good / elapsed)

    def rps(self):
        return self.good / self.seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", required=True, help="bench/wrk/NAME.lua")
    parser.add_argument("--b-script", help="B's own script (default: --script)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5, help="untimed seconds per side first")
    parser.add_argument("--a", nargs="+", required=True, metavar="URL PID [VAR=VALUE]")
    parser.add_argument("--b", nargs="+", required=True, metavar="URL PID [VAR=VALUE]")
    args = parser.parse_args()

    def script(name):
        return os.path.join(os.path.dirname(__file__), "wrk", f"{name}.lua")

    sides = {
        "a": Side(args.a, script(args.script)),
        "b": Side(args.b, script(args.b_script or args.script)),
    }
    cycles = max(1, round(args.seconds / (4 * args.window)))
    # Warm each side as bench/run warms every scenario: caches (verified tokens, prepared
    # statements, connections) filled before anything is counted.
    for side in sides.values():
        subprocess.run(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{args.warmup}s", "-s", side.script,
             side.url],
            env=side.env, capture_output=True, check=True,
        )
    for _ in range(cycles):
        for side in ["a", "b", "b", "a"]:
            sides[side].window(args.window, args.connections)

    a, b = sides["a"], sides["b"]
    if min(a.rates + b.rates) <= 0:
        sys.exit("a window had no successful request: are the servers and tokens right?")
    ratios = [
        (a.rates[2 * i] + a.rates[2 * i + 1]) / (b.rates[2 * i] + b.rates[2 * i + 1])
        for i in range(cycles)
    ]
    median = statistics.median
    latency = (median(a.p50), median(a.p99), median(b.p50), median(b.p99))
    print(result_line(a, b, latency, (a.good, b.good), ratios))


if __name__ == "__main__":
    sys.exit(main())
