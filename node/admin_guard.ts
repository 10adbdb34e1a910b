/**
 * The one guard in front of every operator route (`/admin`, `/admin/*`, `/metrics`): a script's
 * `Authorization: Bearer <--admin-token>`, or whatever the {@linkcode ADMIN_AUTH} service accepts
 * (the console's session with its CSRF header). Without either, operator routes answer 401, or
 * 404 when the node has no way to authenticate an operator at all.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./feature.ts";
import { problemResponse } from "./errors.ts";
import type { AdminAuth } from "./services.ts";

/**
 * Constant-time string comparison (the time does not depend on where the strings differ).
 *
 * @example
 * ```ts
 * safeEqual("secret", "secret"); // true
 * ```
 */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * The credential of an `Authorization: Bearer <credential>` header, or `undefined`.
 *
 * @example
 * ```ts
 * bearerToken(new Request("http://x/", { headers: { authorization: "Bearer abc" } })); // "abc"
 * ```
 */
export function bearerToken(req: Request): string | undefined {
  const h = req.headers.get("authorization");
  const m = h === null ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** True when the request carries `Bearer <expected>` (false when `expected` is unset). */
export function bearerMatches(req: Request, expected: string | undefined): boolean {
  if (!expected) return false;
  const got = bearerToken(req);
  return got !== undefined && safeEqual(got, expected);
}

/** Options for {@linkcode adminGuard}. */
export interface AdminGuardOptions {
  /** `--admin-token`, when set. */
  adminToken: string | undefined;
  /** The session authenticator, read per request (features publish it after the app is built). */
  auth: () => AdminAuth | undefined;
}

/**
 * Middleware for the operator routes.
 *
 * @example
 * ```ts ignore
 * app.use("/admin/*", adminGuard({ adminToken: config.adminToken, auth: () => undefined }));
 * ```
 */
export function adminGuard(opts: AdminGuardOptions): MiddlewareHandler<AppEnv> {
  return async function guardAdmin(c: Context<AppEnv>, next) {
    if (bearerMatches(c.req.raw, opts.adminToken)) return await next();
    const auth = opts.auth();
    if (auth === undefined) {
      if (opts.adminToken === undefined) {
        return problemResponse(404, `No route for ${c.req.method} ${c.req.path}`);
      }
      return problemResponse(401, "Send 'Authorization: Bearer <admin token>'", {
        headers: { "www-authenticate": 'Bearer realm="subspace-admin"' },
      });
    }
    const refused = await auth.check(c);
    if (refused !== undefined) return refused;
    return await next();
  };
}
