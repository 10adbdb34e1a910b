/**
 * The error every wallet-library call raises for an HTTP error answer.
 *
 * @module
 */

/**
 * An HTTP error answer from a server (RFC 9457 problem details when it sent them).
 *
 * @example
 * ```ts
 * try {
 *   await client.send(server, address, payload);
 * } catch (e) {
 *   if (e instanceof SubspaceHttpError && e.status === 401) console.log("needs a token");
 * }
 * ```
 */
export class SubspaceHttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The problem+json body, if any. */
  readonly problem: Record<string, unknown> | undefined;
  /** The answer's headers (e.g. `WWW-Authenticate`, `Retry-After`), when known. */
  readonly headers: Headers;
  constructor(
    status: number,
    message: string,
    problem?: Record<string, unknown>,
    headers?: Headers,
  ) {
    super(message);
    this.name = "SubspaceHttpError";
    this.status = status;
    this.problem = problem;
    this.headers = headers ?? new Headers();
  }
}
