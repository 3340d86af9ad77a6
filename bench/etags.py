"""Prints "id tag" for each product: the ETag its GET /api/v1/products/{id} answers with now,
over one keep-alive connection, for bench/wrk/product_revalidate.lua."""

import argparse
import http.client
import urllib.parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    for product in range(args.first, args.first + args.count):
        connection.request("GET", f"/api/v1/products/{product}")
        response = connection.getresponse()
        response.read()
        tag = response.getheader("ETag")
        if response.status != 200 or tag is None:
            raise SystemExit(f"product {product}: {response.status}, ETag {tag}")
        print(product, tag)


if __name__ == "__main__":
    main()
