/**
 * CORS (the Fetch standard's CORS protocol) for the wallet API, so that browser wallets served
 * from another origin can call a node. The wallet API uses no cookies and no ambient
 * credentials (tokens travel in `Authorization`, set by script), so `*` is a safe default;
 * operators may list origins instead. Mounted only on `/v1/*` and the issuer directory: the
 * console, `/admin` and `/metrics` never answer cross-origin requests.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";

/** Request headers wallets send: JSON bodies and Privacy Pass / account authorization. */
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type";
/**
 * Response headers wallets read beyond the CORS-safelisted ones: the token challenge on 401,
 * the back-off on 429/503, and where a created resource lives.
 */
export const CORS_EXPOSE_HEADERS = "WWW-Authenticate, Retry-After, Location";
/** How long a browser may cache a preflight answer (seconds). */
export const CORS_MAX_AGE_SECONDS = 86400;

/** The context's response, copied first if its headers are immutable (a fetched response). */
function mutable(c: Context): Response {
  try {
    c.res.headers.set("x-cors-probe", "1");
    c.res.headers.delete("x-cors-probe");
  } catch {
    c.res = new Response(c.res.body, c.res);
  }
  return c.res;
}

/** Options of {@linkcode cors}. */
export interface CorsOptions {
  /** Allowed origins: `["*"]` for any, exact origins (`https://wallet.example`), or none. */
  origins: readonly string[];
  /** Methods answered to a preflight (default `GET, POST`). */
  methods?: readonly string[];
}

/**
 * CORS middleware: answers preflights (`OPTIONS` with `Access-Control-Request-Method`) with 204
 * and adds `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers` to every answer,
 * error answers included, for allowed origins. A request from an origin not listed gets no CORS
 * headers (the browser then blocks it); an empty list turns CORS off.
 *
 * @example
 * ```ts
 * app.use("/v1/*", cors({ origins: ["*"] }));
 * ```
 */
export function cors(opts: CorsOptions): MiddlewareHandler {
  const any = opts.origins.includes("*");
  const listed = new Set(opts.origins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
  const methods = (opts.methods ?? ["GET", "POST"]).join(", ");
  const allowOf = (origin: string | undefined): string | undefined => {
    if (any) return "*";
    if (origin === undefined || !listed.has(origin.toLowerCase())) return undefined;
    return origin;
  };
  return async function corsHeaders(c, next) {
    const origin = c.req.header("origin");
    const allow = allowOf(origin);
    const preflight = c.req.method === "OPTIONS" &&
      c.req.header("access-control-request-method") !== undefined;
    if (preflight) {
      const headers = new Headers();
      if (!any) headers.set("vary", "Origin");
      if (allow !== undefined) {
        headers.set("access-control-allow-origin", allow);
        headers.set("access-control-allow-methods", methods);
        headers.set("access-control-allow-headers", CORS_ALLOW_HEADERS);
        headers.set("access-control-max-age", String(CORS_MAX_AGE_SECONDS));
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    const res = mutable(c);
    if (!any) res.headers.append("vary", "Origin");
    if (allow === undefined) return;
    res.headers.set("access-control-allow-origin", allow);
    res.headers.set("access-control-expose-headers", CORS_EXPOSE_HEADERS);
  };
}
