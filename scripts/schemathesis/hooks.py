"""Schemathesis hooks for edgecart's fuzz run (scripts/fuzz-api).

Generated Idempotency-Key values collide ('0', '00', ...) within a run, and the server rightly
answers 422 IDEMPOTENCY_KEY_REUSED to a reused key, which the positive_data_acceptance check
would report. Each valid generated key therefore gets a unique suffix; keys that are invalid
on purpose (negative tests) are left as they are.

Plugin uploads (application/wasm) are serialized like application/octet-stream.
"""
import re
import uuid

import schemathesis

_VALID = re.compile(r"[!-~]{1,255}")

# Plugin uploads are raw component bytes: send generated bodies as bytes, as for octet-stream.
schemathesis.serializer.alias("application/wasm", "application/octet-stream")


@schemathesis.hook
def map_case(context, case):
    headers = case.headers
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key":
                value = headers[name]
                if isinstance(value, str) and _VALID.fullmatch(value):
                    headers[name] = f"{value[:200]}-{uuid.uuid4().hex}"
    return case
