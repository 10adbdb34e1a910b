/**
 * The fees routes: `GET /v1/pricing` (what tokens cost and how to buy them),
 * `POST /v1/invoices` (`{bundles}`, for the account in `Authorization: Bearer <account>`),
 * `GET /v1/invoices/:id`, and the operator's `GET|PUT /admin/api/pricing` (behind the core's
 * one guard on `/admin/*`).
 *
 * @module
 */
import type { Hono } from "hono";
import { readJsonObject } from "../body.ts";
import { badRequest, HttpError } from "../errors.ts";
import type { AppEnv } from "../feature.ts";
import { type AccountCredit, accountFromRequest, type FreeQuota } from "../quota/mod.ts";
import type { FeeSettings } from "./fee_settings.ts";
import { InvoiceError, type InvoiceService } from "./invoices.ts";
import { PaymentSettingsError, paymentSettingsToJson } from "./settings.ts";

const JSON_BODY_BYTES = 1024 * 1024;

/** What the fees routes use. */
export interface FeesRoutesContext {
  settings: FeeSettings;
  invoices: InvoiceService;
  accounts: AccountCredit;
  freeQuota: FreeQuota;
  invoiceTtlSeconds: number;
}

/** Adds the pricing, invoice and admin pricing routes. */
export function feesRoutes(app: Hono<AppEnv>, f: FeesRoutesContext): void {
  const { settings, invoices } = f;
  const readJson = (req: Request) => readJsonObject(req, JSON_BODY_BYTES);

  app.get("/v1/pricing", (c) =>
    c.json({
      ...settings.json(f.freeQuota),
      currency: "BTC",
      fees_enabled: invoices.enabled,
      confirmations: invoices.confirmations,
      invoice_ttl_seconds: f.invoiceTtlSeconds,
      how_to_buy: invoices.enabled
        ? "POST /v1/invoices {bundles} with 'Authorization: Bearer <account>', pay the BIP21 URI, then fetch tokens"
        : "This node does not sell tokens; use the free quota or ask the operator",
    }));

  app.post("/v1/invoices", async (c) => {
    const hash = accountFromRequest(c.req.raw);
    const body = await readJson(c.req.raw);
    const bundles = body.bundles ?? 1;
    if (typeof bundles !== "number" || !Number.isSafeInteger(bundles)) {
      throw badRequest("bundles", "bundles must be an integer");
    }
    if (!await f.accounts.exists(hash)) {
      throw new HttpError(404, "Unknown account", { field: "account" });
    }
    try {
      const inv = await invoices.create(hash, bundles);
      return c.json(invoices.toJson(inv), 201);
    } catch (err) {
      if (err instanceof InvoiceError) {
        throw new HttpError(err.code === "disabled" ? 404 : 400, err.message, {
          field: "bundles",
        });
      }
      throw err;
    }
  });

  app.get("/v1/invoices/:id", async (c) => {
    const id = c.req.param("id");
    if (!/^[0-9a-f]{32}$/.test(id)) {
      throw badRequest("id", "Cannot parse invoice id: expected 32 hex characters");
    }
    const inv = await invoices.get(id);
    if (inv === undefined) throw new HttpError(404, "No such invoice", { field: "id" });
    return c.json(invoices.toJson(inv));
  });

  const adminPricing = () => ({
    ...settings.json(f.freeQuota),
    ...paymentSettingsToJson(settings.payment()),
    fees_enabled: invoices.enabled,
  });
  app.get("/admin/api/pricing", (c) => c.json(adminPricing()));
  app.put("/admin/api/pricing", async (c) => {
    const body = await readJson(c.req.raw);
    try {
      await settings.update(body, f.freeQuota);
    } catch (err) {
      if (err instanceof PaymentSettingsError) throw badRequest(err.field, err.message);
      if (err instanceof RangeError) throw badRequest("body", err.message);
      throw err;
    }
    return c.json(adminPricing());
  });
}
