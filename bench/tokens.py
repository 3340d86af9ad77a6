"""End-user tokens for the auth benchmark, signed as an identity provider signs them: RS256.

Makes a fresh 2048-bit RSA key, writes its public half as a JWKS document (kid "bench") and
one token per user, "USER_ID TOKEN" per line, valid for a day. The signing is the
`cryptography` package's (PKCS#1 v1.5 over SHA-256, which is what RS256 is); the JWT around
it is three base64url parts joined by dots.

Usage: tokens.py --jwks OUT.json --tokens OUT.txt --first-user N --users COUNT
"""
import argparse
import base64
import json
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def number(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jwks", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--first-user", type=int, required=True)
    parser.add_argument("--users", type=int, required=True)
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
                      "n": number(public.n), "e": number(public.e)}]}
    with open(args.jwks, "w") as out:
        json.dump(jwks, out)

    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench"}).encode())
    expires = int(time.time()) + 86_400
    with open(args.tokens, "w") as out:
        for user in range(args.first_user, args.first_user + args.users):
            claims = b64url(json.dumps({"sub": str(user), "exp": expires}).encode())
            signed = f"{header}.{claims}".encode()
            signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
            out.write(f"{user} {header}.{claims}.{b64url(signature)}\n")


if __name__ == "__main__":
    main()
