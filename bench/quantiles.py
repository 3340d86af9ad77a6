"""p50 and p99 (milliseconds) of a Prometheus histogram's observations between two scrapes.

Usage: quantiles.py BEFORE AFTER, each a file of `name_bucket{le="..."} count` lines.
Prints "p50 p99"; within a bucket the value is interpolated linearly, as histogram_quantile does.
bench/interleave.py imports `quantile` from here.
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


def quantile(cumulative_by_bound, q):
    """histogram_quantile over cumulative buckets {upper bound: count}, in milliseconds."""
    bounds = sorted(cumulative_by_bound)
    total = cumulative_by_bound[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return float("nan")
    rank = q * total
    lower, previous = 0.0, 0.0
    for bound in bounds:
        cumulative = cumulative_by_bound[bound]
        if cumulative >= rank:
            if bound == float("inf"):
                return lower * 1000
            width = cumulative - previous
            share = (rank - previous) / width if width else 1.0
            return (lower + (bound - lower) * share) * 1000
        lower, previous = bound, cumulative
    return lower * 1000


if __name__ == "__main__":
    before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
    between = {bound: count - before.get(bound, 0.0) for bound, count in after.items()}
    print(f"{quantile(between, 0.5):.1f} {quantile(between, 0.99):.1f}")
