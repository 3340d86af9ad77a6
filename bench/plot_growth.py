"""Hot-SKU orders/s against connections, group commit on and off, as a small SVG line chart.

bench/run measures the hot-SKU load at 16, 64 and 256 connections on a batching node and on a
node with EDGECART_BATCH=off, and calls this with what it measured:

    plot_growth.py --out target/bench-growth.svg --on 16=2900,64=5100,256=6000 \
        --off 16=1200,64=1100,256=1000 --baseline 2064

The dashed line is pgbench's hot-row rate (baseline B) in the same run. No plotting library:
the chart is a few lines of SVG, so the bench needs nothing beyond Python.
"""
import argparse


def series(text):
    points = []
    for item in text.split(","):
        connections, rate = item.split("=")
        points.append((int(connections), float(rate or 0)))
    return points


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--on", type=series, required=True)
    parser.add_argument("--off", type=series, required=True)
    parser.add_argument("--baseline", type=float, default=0)
    args = parser.parse_args()

    width, height, left, bottom, top, right = 560, 330, 70, 40, 34, 150
    top_rate = max([r for _, r in args.on + args.off] + [args.baseline]) * 1.1 or 1
    xs = sorted({c for c, _ in args.on + args.off})

    def x(connections):
        return left + xs.index(connections) * (width - left - right) / max(len(xs) - 1, 1)

    def y(rate):
        return height - bottom - rate / top_rate * (height - bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{(left + width - right) / 2}" y="{height - 8}" text-anchor="middle">connections</text>',
        f'<text x="14" y="{top - 18}">orders/s</text>',
    ]
    for connections in xs:
        parts.append(f'<text x="{x(connections)}" y="{height - bottom + 16}" text-anchor="middle">{connections}</text>')
    for step in range(5):
        rate = top_rate * step / 4
        parts.append(f'<text x="{left - 6}" y="{y(rate) + 4}" text-anchor="end">{rate:.0f}</text>')
    for name, points, colour in (("group commit", args.on, "#1f77b4"), ("EDGECART_BATCH=off", args.off, "#d62728")):
        path = " ".join(f"{x(c):.1f},{y(r):.1f}" for c, r in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for c, r in points:
            parts.append(f'<circle cx="{x(c):.1f}" cy="{y(r):.1f}" r="3" fill="{colour}"/>')
        last_c, last_r = points[-1]
        parts.append(f'<text x="{x(last_c) + 8:.1f}" y="{y(last_r) + 4:.1f}" fill="{colour}">{name}</text>')
    if args.baseline:
        parts.append(f'<line x1="{left}" y1="{y(args.baseline):.1f}" x2="{width - right}" y2="{y(args.baseline):.1f}" '
                     'stroke="gray" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{width - right + 8}" y="{y(args.baseline) + 4:.1f}" fill="gray">pgbench hot row</text>')
    parts.append("</svg>")
    with open(args.out, "w") as out:
        out.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
