/**
 * Typed HTTP errors and their RFC 9457 `application/problem+json` rendering. Every client
 * mistake becomes a 4xx naming the offending field; only our own faults are 5xx.
 *
 * @module
 */

/** Options for an {@linkcode HttpError}. */
export interface HttpErrorOptions {
  /** The request field at fault (query parameter, JSON member or header). */
  field?: string;
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** A short, stable problem type slug, rendered as `about:blank#<type>`... or a URI. */
  type?: string;
}

/** An error that the app's `onError` turns into a problem+json response. */
export class HttpError extends Error {
  /** HTTP status code. */
  readonly status: number;
  /** The request field at fault, if any. */
  readonly field: string | undefined;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** Problem type URI. */
  readonly type: string;
  constructor(status: number, detail: string, opts: HttpErrorOptions = {}) {
    super(detail);
    this.name = "HttpError";
    this.status = status;
    this.field = opts.field;
    this.headers = opts.headers ?? {};
    this.type = opts.type ?? "about:blank";
  }
}

/** A 400 naming the bad field. */
export function badRequest(field: string, detail: string): HttpError {
  return new HttpError(400, detail, { field });
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

/** Renders an RFC 9457 problem response. */
export function problemResponse(
  status: number,
  detail: string,
  opts: HttpErrorOptions = {},
): Response {
  const body: Record<string, unknown> = {
    type: opts.type ?? "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
  };
  if (opts.field !== undefined) body.field = opts.field;
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...opts.headers },
  });
}

/** Renders an {@linkcode HttpError}. */
export function httpErrorResponse(err: HttpError): Response {
  const opts: HttpErrorOptions = { headers: err.headers, type: err.type };
  if (err.field !== undefined) opts.field = err.field;
  return problemResponse(err.status, err.message, opts);
}
