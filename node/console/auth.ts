/**
 * Operator authentication: session cookies, CSRF tokens and the admin bearer token.
 *
 * - A session is a random 256-bit token in an `HttpOnly; SameSite=Strict` cookie (`Secure`
 *   when the request came over TLS, directly or through a proxy that says so); the database
 *   keeps only its SHA-256.
 * - Every form carries the session's CSRF token (synchronizer token); the login form, which
 *   has no session yet, uses a double-submit cookie. A cross-origin `Origin` is refused too.
 * - Scripts use `Authorization: Bearer <--admin-token>` for `/metrics` and `/admin/...`; the
 *   core's guard (`node/admin_guard.ts`) checks it and asks the console about everything else.
 *
 * @module
 */
import type { Context } from "hono";
import type { AppEnv } from "../feature.ts";
import { type ConsoleState, sessionId, type SessionRecord } from "./state.ts";
import { toBase64Url } from "../../client/mod.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "subspace_session";
/** Name of the login form's double-submit CSRF cookie. */
export const LOGIN_CSRF_COOKIE = "subspace_login_csrf";

/** A random 256-bit token, base64url. */
export function randomToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)), false);
}

/** Parses a `Cookie` header. */
export function parseCookies(header: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** True when the client reached us over TLS (directly, or via a proxy's `X-Forwarded-Proto`). */
export function overTls(req: Request, tlsConfigured: boolean): boolean {
  if (tlsConfigured) return true;
  if (new URL(req.url).protocol === "https:") return true;
  return req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

/** Serializes a cookie with the console's attributes. `maxAgeSeconds: 0` deletes it. */
export function cookie(
  name: string,
  value: string,
  opts: { maxAgeSeconds: number; secure: boolean; path?: string },
): string {
  return [
    `${name}=${value}`,
    `Path=${opts.path ?? "/"}`,
    `Max-Age=${opts.maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(opts.secure ? ["Secure"] : []),
  ].join("; ");
}

/** Looks up the request's session, if it has a live one. */
export async function requestSession(
  req: Request,
  state: ConsoleState,
  now: number,
): Promise<SessionRecord | undefined> {
  const token = parseCookies(req.headers.get("cookie")).get(SESSION_COOKIE);
  if (!token || token.length > 100) return undefined;
  return await state.getSession(await sessionId(token), now);
}

/** Creates a session; returns the cookie value (the only place the token exists). */
export async function createSession(
  state: ConsoleState,
  opts: { now: number; ttlSeconds: number; mustChangePassword: boolean },
): Promise<{ token: string; session: SessionRecord }> {
  const token = randomToken();
  const session: SessionRecord = {
    id: await sessionId(token),
    csrf: randomToken(),
    mustChangePassword: opts.mustChangePassword,
    createdAt: opts.now,
    expiresAt: opts.now + opts.ttlSeconds * 1000,
  };
  await state.createSession(session);
  return { token, session };
}

/**
 * True when an `Origin` header, if present, names this host. Browsers send it on every POST;
 * a mismatch means a cross-site form.
 */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host") ??
    new URL(req.url).host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The client address used as the login rate-limit key (never logged). */
export function clientKey(c: Context<AppEnv>): string {
  return (c.env as AppEnv["Bindings"] | undefined)?.remoteAddr?.hostname ?? "local";
}
