/**
 * `GET /admin/api/tokens` (behind the core's guard on `/admin/*`): issuance counters since
 * start, spent nonces kept, account totals and the issuer keys.
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppEnv } from "../../feature.ts";
import type { QuotaRoutesContext } from "./_shared.ts";

/** Adds `GET /admin/api/tokens`. */
export function adminTokenRoutes(app: Hono<AppEnv>, q: QuotaRoutesContext): void {
  app.get("/admin/api/tokens", async (c) =>
    c.json({
      ...q.tokens.stats,
      spent_kept: await q.tokens.spent.count(),
      accounts: await q.store.accountStats(),
      keys: q.ring.keys().map((k) => ({
        id: k.idHex,
        created_at: Math.floor(k.createdAt / 1000),
        sign_until: Math.floor(k.signUntil / 1000),
        expires_at: Math.floor(k.expiresAt / 1000),
      })),
    }));
}
