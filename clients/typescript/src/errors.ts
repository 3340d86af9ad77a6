/**
 * {@link EdgecartError}: a refused call, read from its RFC 9457 problem+json answer.
 */

import type { Problem } from "./schema.js";

/**
 * A call the server refused (any status outside 2xx): its `status`, the problem's stable
 * `code` (`OUT_OF_STOCK`, `USER_NOT_FOUND`, a rule plugin's own code, …) and `detail`, the
 * message for people.
 *
 * An answer that is not problem+json (a proxy's error page) gets the code `HTTP_<status>`
 * and its text as the detail.
 */
export class EdgecartError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The stable machine-readable name of the error. */
  readonly code: string;
  /** The human message. */
  readonly detail: string;
  /** The whole problem body (with extra members such as `down`), when there was one. */
  readonly problem: (Problem & Record<string, unknown>) | undefined;
  /** The answer itself (its body is already read). */
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const problem = isProblem(body) ? body : undefined;
    const code = problem?.code ?? `HTTP_${response.status}`;
    const detail =
      problem?.detail ?? (typeof body === "string" && body !== "" ? body : response.statusText);
    super(`${response.status} ${code}: ${detail}`);
    this.name = "EdgecartError";
    this.status = response.status;
    this.code = code;
    this.detail = detail;
    this.problem = problem;
    this.response = response;
  }
}

function isProblem(body: unknown): body is Problem & Record<string, unknown> {
  if (typeof body !== "object" || body === null) {
    return false;
  }
  const fields = body as Record<string, unknown>;
  return typeof fields.code === "string" && typeof fields.detail === "string";
}
