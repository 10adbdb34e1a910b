/**
 * `GET /v1/account`: the state of the caller's account (`Authorization: Bearer <account>`).
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppEnv } from "../../feature.ts";
import { accountFromRequest } from "../account_auth.ts";
import { accountState } from "../accounts.ts";
import type { QuotaRoutesContext } from "./_shared.ts";

/** Adds `GET /v1/account`. */
export function accountRoutes(app: Hono<AppEnv>, q: QuotaRoutesContext): void {
  app.get("/v1/account", async (c) =>
    c.json(
      await accountState(q.store, accountFromRequest(c.req.raw), q.tokens.policy, q.now()),
    ));
}
