"""A stand-in OTLP/HTTP collector for the tracing benchmark: accepts every POST /v1/traces
with 200 and keeps count of the export requests and bytes it received, written to a stats
file after each one, so bench/run can show the exporting node really exported.

Usage: otlp_sink.py --port PORT --stats FILE
"""
import argparse
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args()
    lock = threading.Lock()
    totals = {"requests": 0, "bytes": 0}

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                totals["requests"] += 1
                totals["bytes"] += len(body)
                with open(args.stats, "w") as out:
                    out.write(f"requests={totals['requests']} bytes={totals['bytes']}\n")
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Sink).serve_forever()


if __name__ == "__main__":
    main()
