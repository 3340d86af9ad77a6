"""p50 and p99 (milliseconds) of a Prometheus histogram's observations between two scrapes.

Usage: quantiles.py BEFORE AFTER, each a file of `name_bucket{le="..."} count` lines.
Prints "p50 p99"; within a bucket the value is interpolated linearly, as histogram_quantile does.
"""
import re
import sys


def buckets(path):
    found = {}
    for line in open(path):
        match = re.search(r'le="([^"]+)"\}\s+([0-9.e+]+)', line)
        if match:
            bound = float("inf") if match.group(1) == "+Inf" else float(match.group(1))
            found[bound] = float(match.group(2))
    return found


before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
bounds = sorted(after)
counts = [after[b] - before.get(b, 0.0) for b in bounds]
total = counts[-1] if counts else 0.0


def quantile(q):
    if total <= 0:
        return float("nan")
    rank = q * total
    lower, previous = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower * 1000
            width = cumulative - previous
            share = (rank - previous) / width if width else 1.0
            return (lower + (bound - lower) * share) * 1000
        lower, previous = bound, cumulative
    return lower * 1000


print(f"{quantile(0.5):.1f} {quantile(0.99):.1f}")
