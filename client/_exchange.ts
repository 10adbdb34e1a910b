/**
 * One JSON exchange with a node for the token, signup and fee calls, over the same transport
 * options as `SubspaceClient` (fetch or proxy). Private to `client/`.
 *
 * @module
 */
import { SubspaceHttpError } from "./http_error.ts";
import { toNetworkError } from "./net_error.ts";
import { type FetchLike, proxyFetch } from "./proxy.ts";

/** How token calls reach the server: the same options as `SubspaceClient`. */
export interface TokenHttpOptions {
  /** Transport (default `globalThis.fetch`). */
  fetch?: FetchLike;
  /** Proxy URL (`socks5://host:port`, `http://host:port`); overrides `fetch`. Deno only. */
  proxy?: string;
  /** Aborts the exchange. */
  signal?: AbortSignal;
  /** Deadline of one request (default 30 s). */
  timeoutMs?: number;
}

/** An absolute URL as is, or a path under the server's base URL. */
export function under(base: string, urlOrPath: string): string {
  return /^https?:\/\//.test(urlOrPath) ? urlOrPath : base + urlOrPath;
}

function transport(opts: TokenHttpOptions): FetchLike {
  return opts.proxy !== undefined ? proxyFetch(opts.proxy) : opts.fetch ?? ((req) => fetch(req));
}

/**
 * One JSON exchange. Network failures reject with a `NetworkError` saying what failed; error
 * answers reject with a {@linkcode SubspaceHttpError} carrying the problem body.
 */
export async function exchange(
  opts: TokenHttpOptions,
  url: string,
  init: RequestInit = {},
): Promise<Record<string, unknown>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const request = new Request(url, { ...init, signal });
  let res: Response;
  let text: string;
  try {
    res = await transport(opts)(request);
    text = await res.text();
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw toNetworkError(
      timeout.aborted ? new DOMException("timed out", "TimeoutError") : e,
      url,
      timeoutMs,
    );
  }
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  const obj = typeof body === "object" && body !== null && !Array.isArray(body)
    ? body as Record<string, unknown>
    : undefined;
  if (!res.ok) {
    const detail = typeof obj?.detail === "string" ? obj.detail : text.slice(0, 200);
    throw new SubspaceHttpError(
      res.status,
      `${request.method} ${new URL(url).pathname} failed: ${res.status} ${detail}`,
      obj,
      res.headers,
    );
  }
  if (obj === undefined) {
    throw new TypeError(`${request.method} ${new URL(url).pathname}: expected a JSON object`);
  }
  return obj;
}
