/**
 * The openapi-fetch middleware every call goes through: the bearer token each part of the API
 * takes, and an `Idempotency-Key` on charges and orders that do not carry one.
 */

import type { Middleware } from "openapi-fetch";

/** A bearer token, or a function asked for one before each call that needs it. */
export type TokenSource = string | (() => string | Promise<string>);

/** The calls that take an `Idempotency-Key` (document paths, POST). */
const IDEMPOTENT_POSTS = new Set(["/api/v1/users/{userId}/charge", "/api/v1/orders"]);

/** The end-user routes, which take the user's token (`EDGECART_AUTH=jwt`). */
const USER_ROUTES = /^\/api\/v1\/(users|orders)(\/|$)/;

/** A fresh idempotency key: a random UUID. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * The admin token on `/admin/…`, the end user's on `/api/v1/users/…` and `/api/v1/orders…`,
 * none on public reads (so that caches may keep them); a header the caller set wins.
 */
export function credentials(token?: TokenSource, adminToken?: TokenSource): Middleware {
  return {
    async onRequest({ request, schemaPath }) {
      const source = schemaPath.startsWith("/admin/")
        ? adminToken
        : USER_ROUTES.test(schemaPath)
          ? token
          : undefined;
      if (source !== undefined && !request.headers.has("Authorization")) {
        const value = typeof source === "function" ? await source() : source;
        request.headers.set("Authorization", `Bearer ${value}`);
      }
      if (
        request.method === "POST" &&
        IDEMPOTENT_POSTS.has(schemaPath) &&
        !request.headers.has("Idempotency-Key")
      ) {
        request.headers.set("Idempotency-Key", newIdempotencyKey());
      }
      return request;
    },
  };
}
