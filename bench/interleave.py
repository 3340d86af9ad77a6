"""Two settings of a running server compared under one continuous load: A/B windows.

Whole runs of minutes, one per setting, differ by more than a plugin costs on a small machine:
PostgreSQL's checkpoints and vacuums, table growth and neighbours on the host move throughput by
10-20 % from one run to the next. So the load (wrk, started by bench/run) runs without a break
while this script switches the setting every window, in the order A B B A, and counts the
requests the server answered in each window from its own metrics. Drift slower than a few
windows hits both sides alike; what is left is the setting's cost.

Usage: interleave.py --url URL --token TOKEN --method POST --route /api/v1/orders --pid PID
           --seconds 60 --window 1.5 --on 'POST /admin/v1/... {json}' ... --off '...' ...

Prints one line: RESULT on_rps= off_rps= ratio= on_p50_ms= on_p99_ms= off_p50_ms= off_p99_ms=
on_errors= off_errors= on_cpu_us= off_cpu_us= windows= cycle_ratio_min= cycle_ratio_median=
cycle_ratio_max=. Errors are answers with a 5xx status; cpu_us is the server's CPU time per
request (from /proc/PID/stat).
"""
import argparse
import os
import re
import statistics
import sys
import time
import urllib.request

from quantiles import quantile

SAMPLE = re.compile(r"^(\w+)\{(.*)\}\s+(\S+)$")  # label values may hold braces
LABEL = re.compile(r'(\w+)="([^"]*)"')


def scrape(url, method, route):
    """Answered requests by status, and the latency histogram's cumulative buckets."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    statuses, buckets = {}, {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if not match:
            continue
        name, labels, value = match.group(1), dict(LABEL.findall(match.group(2))), float(match.group(3))
        if labels.get("method") != method or labels.get("route") != route:
            continue
        if name == "edgecart_http_requests_total":
            statuses[labels["status"]] = value
        elif name == "edgecart_http_request_duration_seconds_bucket":
            buckets[float("inf") if labels["le"] == "+Inf" else float(labels["le"])] = value
    return statuses, buckets


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def result_line(on, off, latency, answers, cycles):
    """The one line bench/run reads for a pair (A is `on`, B is `off`): each side's `rps()`,
    `errors` and `cpu` seconds; `latency` = (on p50, on p99, off p50, off p99) in ms; `answers`
    = how many answers each side's CPU is divided by; `cycles` = one A/B ratio per cycle."""
    on_p50, on_p99, off_p50, off_p99 = latency
    return (
        "RESULT"
        f" on_rps={on.rps():.1f} off_rps={off.rps():.1f} ratio={on.rps() / off.rps():.3f}"
        f" on_p50_ms={on_p50:.2f} on_p99_ms={on_p99:.2f}"
        f" off_p50_ms={off_p50:.2f} off_p99_ms={off_p99:.2f}"
        f" on_errors={on.errors:.0f} off_errors={off.errors:.0f}"
        f" on_cpu_us={on.cpu * 1e6 / max(answers[0], 1):.1f} off_cpu_us={off.cpu * 1e6 / max(answers[1], 1):.1f}"
        f" windows={len(on.rates)}+{len(off.rates)}"
        f" cycle_ratio_min={min(cycles):.3f} cycle_ratio_median={statistics.median(cycles):.3f}"
        f" cycle_ratio_max={max(cycles):.3f}"
    )


def admin(url, token, call):
    method, path, *body = call.split(" ", 2)
    request = urllib.request.Request(
        url + path,
        method=method,
        data=body[0].encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).read()


class Side:
    """What one setting's windows added up to."""

    def __init__(self):
        self.requests = self.errors = self.seconds = self.cpu = 0.0
        self.buckets = {}
        self.rates = []

    def add(self, before, after, elapsed, cpu):
        (statuses0, buckets0), (statuses1, buckets1) = before, after
        answered = sum(statuses1.values()) - sum(statuses0.values())
        self.requests += answered
        self.errors += sum(v - statuses0.get(s, 0) for s, v in statuses1.items() if s.startswith("5"))
        self.seconds += elapsed
        self.cpu += cpu
        for bound, value in buckets1.items():
            self.buckets[bound] = self.buckets.get(bound, 0) + value - buckets0.get(bound, 0)
        self.rates.append(answered / elapsed)

    def rps(self):
        return self.requests / self.seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--route", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--window", type=float, default=1.5)
    parser.add_argument("--settle", type=float, default=0.3, help="pause after a switch")
    parser.add_argument("--on", action="append", default=[])
    parser.add_argument("--off", action="append", default=[])
    args = parser.parse_args()

    sides = {"on": Side(), "off": Side()}
    order = ["on", "off", "off", "on"]
    deadline = time.monotonic() + args.seconds
    step = 0
    while time.monotonic() + args.settle + args.window <= deadline or step % 4:
        side = order[step % 4]
        if step == 0 or order[(step - 1) % 4] != side:
            for call in args.on if side == "on" else args.off:
                admin(args.url, args.token, call)
            time.sleep(args.settle)
        before, cpu_before, started = scrape(args.url, args.method, args.route), cpu_seconds(args.pid), time.monotonic()
        time.sleep(args.window)
        after, cpu_after, ended = scrape(args.url, args.method, args.route), cpu_seconds(args.pid), time.monotonic()
        sides[side].add(before, after, ended - started, cpu_after - cpu_before)
        step += 1

    on, off = sides["on"], sides["off"]
    if min(on.rates + off.rates) <= 0:
        sys.exit(f"no {args.method} {args.route} answered in some window: is the route template right?")
    # One ratio per A B B A cycle: how steady the difference is from cycle to cycle.
    cycles = [
        (on.rates[2 * i] + on.rates[2 * i + 1]) / (off.rates[2 * i] + off.rates[2 * i + 1])
        for i in range(len(on.rates) // 2)
    ]
    latency = [quantile(side.buckets, q) for side in (on, off) for q in (0.5, 0.99)]
    print(result_line(on, off, latency, (on.requests, off.requests), cycles))


if __name__ == "__main__":
    sys.exit(main())
