/**
 * The operator's account API (behind the core's one guard on `/admin/*`):
 * `POST /admin/api/accounts` (optionally `{tokens}` of starting credit),
 * `GET /admin/api/accounts/:account`, and `POST /admin/api/accounts/:account/credit`
 * (`{tokens}`), `.../disable`, `.../enable`.
 *
 * @module
 */
import type { Hono } from "hono";
import { badRequest, HttpError } from "../../errors.ts";
import type { AppEnv } from "../../feature.ts";
import { accountHashParam } from "../account_auth.ts";
import { accountState, createAccount } from "../accounts.ts";
import { accountHash, parseAccountNumber } from "../tokens.ts";
import { type QuotaRoutesContext, readJson } from "./_shared.ts";

/** Adds the admin account routes. */
export function adminAccountRoutes(app: Hono<AppEnv>, q: QuotaRoutesContext): void {
  const { store } = q;
  const state = (hash: Uint8Array) => accountState(store, hash, q.tokens.policy, q.now());

  app.post("/admin/api/accounts", async (c) => {
    let credit = 0;
    if ((c.req.header("content-type") ?? "").startsWith("application/json")) {
      const body = await readJson(c.req.raw);
      if (body.tokens !== undefined) {
        if (
          typeof body.tokens !== "number" || !Number.isSafeInteger(body.tokens) || body.tokens < 0
        ) {
          throw badRequest("tokens", "tokens must be a non-negative integer");
        }
        credit = body.tokens;
      }
    }
    const account = await createAccount(store, q.now(), "admin");
    if (credit > 0) await store.credit(accountHash(parseAccountNumber(account)), credit);
    q.log.info("account created by admin", { credit });
    return c.json({ account }, 201);
  });
  app.get(
    "/admin/api/accounts/:account",
    async (c) => c.json(await state(accountHashParam(c.req.param("account"), "account"))),
  );
  app.post("/admin/api/accounts/:account/credit", async (c) => {
    const hash = accountHashParam(c.req.param("account"), "account");
    const body = await readJson(c.req.raw);
    const n = body.tokens;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > 1e12) {
      throw badRequest("tokens", "tokens must be a positive integer");
    }
    if (!await store.credit(hash, n)) {
      throw new HttpError(404, "Unknown account", { field: "account" });
    }
    q.log.info("account credited by admin", { tokens: n });
    return c.json(await state(hash));
  });
  for (const [verb, disabled] of [["disable", true], ["enable", false]] as const) {
    app.post(`/admin/api/accounts/:account/${verb}`, async (c) => {
      const hash = accountHashParam(c.req.param("account"), "account");
      if (!await store.setDisabled(hash, disabled)) {
        throw new HttpError(404, "Unknown account", { field: "account" });
      }
      return c.json(await state(hash));
    });
  }
}
