/**
 * The quota plugin: installs the token quota (`--quota tokens`), the signup, token, pricing and
 * invoice routes, the admin API for accounts and prices, and the background jobs (key rotation,
 * sweeping spent nonces, invoice polling).
 *
 * Routes (docs/tokens.md):
 * - `GET /v1/captcha`, `POST /v1/accounts`, `GET /v1/account`, `GET|POST /signup`
 * - `POST /v1/tokens` (RFC 9578 `application/private-token-request`, or a JSON batch)
 * - `GET /.well-known/private-token-issuer-directory`
 * - `GET /v1/pricing`, `POST /v1/invoices`, `GET /v1/invoices/:id`
 * - `POST /admin/api/accounts`, `GET /admin/api/accounts/:account`,
 *   `POST /admin/api/accounts/:account/{credit,disable,enable}`, `GET|PUT /admin/api/pricing`,
 *   `GET /admin/api/tokens`
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { timingSafeEqual } from "node:crypto";
import type { AppEnv, NodeContext } from "../context.ts";
import { readBodyLimited, readFormLimited, readJsonObject } from "../body.ts";
import { badRequest, HttpError } from "../errors.ts";
import type { Quota } from "../quota.ts";
import {
  InvoiceError,
  InvoiceService,
  PAYMENT_FIELDS,
  paymentRuntime,
  type PaymentSettings,
  PaymentSettingsError,
  paymentSettingsToJson,
  type Pricing,
  pricingToJson,
  updatePaymentSettings,
  updatePricing,
  type XpubOptions,
} from "../fees/mod.ts";
import { fromBase64Url, toBase64Url } from "../../client/mod.ts";
import { CaptchaStore } from "./captcha.ts";
import { IssuerKeyRing } from "./issuer_keys.ts";
import { AddressRateLimiter } from "./rate_limit.ts";
import { renderSignupPage } from "./signup_page.tsx";
import { SpentSet } from "./spent.ts";
import { AccountError, freeLeft, openQuotaDatabase, QuotaStore } from "./store.ts";
import {
  decodeTokenRequest,
  ISSUER_DIRECTORY_MEDIA_TYPE,
  ISSUER_DIRECTORY_PATH,
  parseAuthorization,
  TOKEN_REQUEST_MEDIA_TYPE,
  TOKEN_RESPONSE_MEDIA_TYPE,
  type TokenRequest,
} from "./token_wire.ts";
import {
  accountHash,
  IssueError,
  newAccountNumber,
  parseAccountNumber,
  TokenService,
} from "./tokens.ts";

/** Everything the quota feature runs, for other features (the console) to read. */
export interface QuotaServices {
  tokens: TokenService;
  store: QuotaStore;
  invoices: InvoiceService;
  captchas: CaptchaStore;
  /** The prices in force. */
  pricing(): Pricing;
  /** The payment settings in force (xpub, Esplora URL, confirmations). */
  payment(): PaymentSettings;
  /**
   * Changes prices and payment settings (JSON field names of `GET /admin/api/pricing`),
   * validating all of them before any applies; persisted, and in effect at once (TTL and size
   * limits for the node, the xpub for the next invoice, the Esplora URL for the next poll).
   * @throws {RangeError} naming the first refused field ({@linkcode PaymentSettingsError}
   * for the payment fields).
   */
  setPricing(update: Record<string, unknown>): Promise<Pricing>;
  /** Creates an account; returns its number. */
  createAccount(origin: "signup" | "admin"): Promise<string>;
}

const SERVICES = new WeakMap<NodeContext, QuotaServices>();

/** The quota services of a node, when the plugin is installed. */
export function quotaServices(ctx: NodeContext): QuotaServices | undefined {
  return SERVICES.get(ctx);
}

/** Options for {@linkcode createQuotaPlugin} (tests). */
export interface QuotaPluginOptions {
  /** Key generator (tests share one key to save time). */
  generateKey?: () => Promise<import("node:crypto").KeyObject>;
  /** Captcha answer override (tests): every captcha gets this text. */
  captchaText?: string;
  /** `fetch` used for the Esplora backend. */
  esploraFetch?: typeof fetch;
}

const JSON_BODY_BYTES = 1024 * 1024;

const readJson = (req: Request) => readJsonObject(req, JSON_BODY_BYTES);

function bearer(req: Request): string | undefined {
  const h = req.headers.get("authorization");
  const m = h === null ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

function remoteAddress(c: Context<AppEnv>): string | undefined {
  return (c.env as AppEnv["Bindings"] | undefined)?.remoteAddr?.hostname;
}

function accountFromParam(text: string | undefined, field: string): Uint8Array {
  try {
    return parseAccountNumber(text ?? "");
  } catch (err) {
    throw badRequest(field, (err as Error).message);
  }
}

/** Creates the plugin. */
export function createQuotaPlugin(opts: QuotaPluginOptions = {}) {
  return async function quotaPlugin(ctx: NodeContext): Promise<void> {
    const { config, log: rootLog } = ctx;
    const log = rootLog.child("quota");
    const quotaDb = await openQuotaDatabase(ctx.store, config.data);
    const store = new QuotaStore(quotaDb.db, quotaDb.writer);
    const ring = await IssuerKeyRing.open({
      dataDir: config.data,
      rotationSeconds: config.issuerKeyRotation,
      overlapSeconds: config.issuerKeyOverlap,
      now: () => ctx.now(),
      ...(opts.generateKey ? { generate: opts.generateKey } : {}),
    });
    const spent = new SpentSet(store);

    // Prices: config defaults, overridden by what the operator saved.
    const maxPayloadAtStart = config.maxPayloadBytes;
    let pricing: Pricing = {
      tokensPerBundle: config.tokensPerBundle,
      bundlePriceSats: config.bundlePriceSats,
      freeTokens: config.freeTokens,
      quotaPeriodSeconds: config.quotaPeriod,
      maxTtlSeconds: config.maxTtl,
      maxPayloadBytes: config.maxPayloadBytes,
    };
    const applyLimits = (p: Pricing) => {
      config.maxTtl = p.maxTtlSeconds;
      if (config.defaultTtl > p.maxTtlSeconds) config.defaultTtl = p.maxTtlSeconds;
      // The body-size check of POST /v1/messages was sized at start: only lower the limit.
      config.maxPayloadBytes = Math.min(p.maxPayloadBytes, maxPayloadAtStart);
    };
    const saved = await store.getSetting<Record<string, unknown>>("pricing");
    if (saved !== undefined) {
      try {
        pricing = updatePricing(pricing, saved);
        applyLimits(pricing);
      } catch (err) {
        log.warn("ignoring saved pricing", { err });
      }
    }

    const tokens = new TokenService({
      ring,
      store,
      spent,
      issuerName: config.issuerName,
      policy: () => ({
        freeTokens: pricing.freeTokens,
        periodMs: pricing.quotaPeriodSeconds * 1000,
      }),
      maxPerRequest: config.maxTokensPerRequest,
      now: () => ctx.now(),
    });
    const captchas = new CaptchaStore({ ttlSeconds: config.captchaTtl, now: () => ctx.now() });
    const signupLimiter = new AddressRateLimiter({
      perHour: config.signupsPerHour,
      now: () => ctx.now(),
    });

    // Payment settings: the flags are the initial values; what the operator saved wins.
    const xpubOptions: XpubOptions = {
      type: config.feeAddressType === "auto" ? undefined : config.feeAddressType,
      network: config.feeNetwork === "auto" ? undefined : config.feeNetwork,
    };
    const esploraOptions = opts.esploraFetch ? { fetch: opts.esploraFetch } : {};
    const fromFlags = updatePaymentSettings(
      { xpub: "", esploraUrl: "", confirmations: config.confirmations },
      { xpub: config.feeXpub ?? "", esplora_url: config.esploraUrl ?? "" },
      xpubOptions,
    );
    let payment: PaymentSettings = fromFlags;
    const savedPayment = await store.getSetting<Record<string, unknown>>("payment");
    if (savedPayment !== undefined) {
      try {
        payment = updatePaymentSettings(fromFlags, savedPayment, xpubOptions);
        const flags = paymentSettingsToJson(fromFlags);
        const used = paymentSettingsToJson(payment);
        const overridden = PAYMENT_FIELDS.filter((k) => flags[k] !== used[k]);
        if (overridden.length > 0) {
          log.info("payment settings saved in the console override the flags", {
            fields: overridden,
          });
        }
      } catch (err) {
        log.warn("ignoring saved payment settings", { err });
      }
    } else {
      // First start with per-key address indices: older invoices were made with this key.
      const adopted = await store.adoptLegacyInvoices(payment.xpub);
      if (adopted > 0) log.info("older invoices assigned to the current xpub", { adopted });
    }
    const runtime = paymentRuntime(payment, xpubOptions, esploraOptions);

    const invoicesPaid = ctx.metrics.counter("subspace_invoices_paid_total", "Invoices paid");
    const invoices = new InvoiceService({
      store,
      ...runtime,
      invoiceTtlSeconds: config.invoiceTtl,
      pricing: () => pricing,
      now: () => ctx.now(),
      onPaid: (inv) => {
        invoicesPaid.inc();
        log.info("invoice paid", { invoice: inv.id, tokens: inv.tokens, sats: inv.receivedSats });
      },
      onError: (err) => log.warn("invoice check failed", { err }),
    });

    const createAccount = async (origin: "signup" | "admin") => {
      for (;;) {
        const account = newAccountNumber();
        if (
          await store.createAccount(accountHash(parseAccountNumber(account)), ctx.now(), origin)
        ) {
          return account;
        }
      }
    };
    const services: QuotaServices = {
      tokens,
      store,
      invoices,
      captchas,
      pricing: () => pricing,
      payment: () => payment,
      async setPricing(update) {
        const priceFields: Record<string, unknown> = {};
        const payFields: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(update)) {
          if ((PAYMENT_FIELDS as readonly string[]).includes(k)) payFields[k] = v;
          else priceFields[k] = v;
        }
        const next = updatePricing(pricing, priceFields);
        const nextPayment = updatePaymentSettings(payment, payFields, xpubOptions);
        const nextRuntime = paymentRuntime(nextPayment, xpubOptions, esploraOptions);
        if (Object.keys(priceFields).length > 0) {
          await store.setSetting("pricing", pricingToJson(next));
        }
        if (Object.keys(payFields).length > 0) {
          await store.setSetting("payment", paymentSettingsToJson(nextPayment));
        }
        pricing = next;
        applyLimits(next);
        if (Object.keys(payFields).length > 0) {
          payment = nextPayment;
          invoices.configure(nextRuntime);
          log.info("payment settings changed", {
            fields: Object.keys(payFields),
            fees_enabled: invoices.enabled,
            backend: nextPayment.esploraUrl !== "",
          });
        }
        return next;
      },
      createAccount,
    };
    SERVICES.set(ctx, services);

    // ----- metrics
    ctx.metrics.gauge(
      "subspace_tokens_issued",
      "Tokens issued since start",
      () => tokens.stats.issued,
    );
    ctx.metrics.gauge(
      "subspace_tokens_redeemed",
      "Tokens redeemed since start",
      () => tokens.stats.redeemed,
    );
    ctx.metrics.gauge(
      "subspace_tokens_refused",
      "Token redemptions refused since start",
      () => tokens.stats.refused,
    );
    const signups = ctx.metrics.counter("subspace_signups_total", "Accounts created by signup");

    // ----- the quota
    if (config.quota === "tokens") {
      const quota: Quota = {
        mode: "tokens",
        async charge(req) {
          const challenge = { "www-authenticate": tokens.wwwAuthenticate() };
          const header = req.request.headers.get("authorization");
          let token: Uint8Array | undefined;
          try {
            token = header === null ? undefined : parseAuthorization(header);
          } catch (err) {
            throw new HttpError(401, `Cannot parse the PrivateToken: ${(err as Error).message}`, {
              headers: challenge,
              field: "authorization",
            });
          }
          if (token === undefined) {
            throw new HttpError(
              401,
              "Posting costs one token: send 'Authorization: PrivateToken token=...' (see GET /v1/pricing)",
              { headers: challenge, field: "authorization" },
            );
          }
          const r = await tokens.redeem(token);
          if (!r.ok) {
            throw new HttpError(401, `Token refused: ${r.detail}`, {
              headers: challenge,
              field: "authorization",
              type: `https://subspace.invalid/problems/token-${r.reason}`,
            });
          }
        },
      };
      ctx.quota = quota;
    }

    ctx.hooks.info.push(() => ({
      tokens: {
        issuer_directory: ISSUER_DIRECTORY_PATH,
        issuer_name: config.issuerName,
        challenge: toBase64Url(tokens.challenge),
        free_tokens: pricing.freeTokens,
        quota_period_seconds: pricing.quotaPeriodSeconds,
      },
    }));

    // ----- background jobs
    const maintenance = setInterval(async () => {
      try {
        if (await ring.maintain()) log.info("issuer keys rotated", { keys: ring.keys().length });
        const swept = await store.deleteExpiredSpent(ctx.now());
        if (swept > 0) log.info("swept spent nonces of expired keys", { count: swept });
      } catch (err) {
        log.error("quota maintenance failed", { err });
      }
    }, Math.min(config.issuerKeyRotation * 1000, 3_600_000) / 4);
    // Always polling: the operator may set the xpub and the backend later; a poll without a
    // backend only expires old invoices.
    invoices.start(config.esploraPollInterval * 1000);
    ctx.hooks.close.push(async () => {
      clearInterval(maintenance);
      await invoices.stop();
      await spent.drain();
      await quotaDb.close();
    });

    // ----- routes
    const requireAccount = (c: Context<AppEnv>): Uint8Array => {
      const text = bearer(c.req.raw);
      if (text === undefined) {
        throw new HttpError(401, "Send the account number as 'Authorization: Bearer <account>'", {
          headers: { "www-authenticate": 'Bearer realm="subspace-account"' },
          field: "authorization",
        });
      }
      const account = accountFromParam(text, "authorization");
      return accountHash(account);
    };
    const requireAdmin = (c: Context<AppEnv>) => {
      const expected = config.adminToken;
      if (expected === undefined) {
        throw new HttpError(403, "The admin API is off: set SUBSPACE_ADMIN_TOKEN (--admin-token)");
      }
      const got = bearer(c.req.raw);
      if (got === undefined || !safeEqual(got, expected)) {
        throw new HttpError(401, "Admin API: send 'Authorization: Bearer <admin token>'", {
          headers: { "www-authenticate": 'Bearer realm="subspace-admin"' },
        });
      }
    };
    const accountState = async (hash: Uint8Array) => {
      const a = await store.getAccount(hash);
      if (a === undefined) throw new HttpError(404, "Unknown account", { field: "account" });
      const f = freeLeft(a, tokens.policy, ctx.now());
      return {
        disabled: a.disabled,
        free_remaining: f.freeLeft,
        credit: a.credit,
        period_ends_at: Math.floor(f.periodEnd / 1000),
        issued_total: a.issuedTotal,
        created_at: Math.floor(a.createdAt / 1000),
      };
    };
    const issueError = (err: unknown): never => {
      if (err instanceof AccountError) {
        if (err.code === "unknown") {
          throw new HttpError(403, "Unknown account", { field: "authorization" });
        }
        if (err.code === "disabled") {
          throw new HttpError(403, "This account is disabled", { field: "authorization" });
        }
        throw new HttpError(
          402,
          `${err.message}. Buy more: POST /v1/invoices (see GET /v1/pricing)`,
          { type: "https://subspace.invalid/problems/quota-exhausted" },
        );
      }
      if (err instanceof IssueError) {
        throw new HttpError(err.code === "key" ? 409 : 400, err.message, {
          field: "token_requests",
        });
      }
      throw err;
    };
    const signup = async (c: Context<AppEnv>, captchaId: unknown, answer: unknown) => {
      if (!signupLimiter.take(remoteAddress(c))) {
        throw new HttpError(429, "Too many signup attempts from this address; try again later", {
          headers: { "retry-after": String(signupLimiter.retryAfterSeconds(remoteAddress(c))) },
        });
      }
      if (typeof captchaId !== "string" || captchaId === "") {
        throw badRequest("captcha_id", "captcha_id is required (GET /v1/captcha)");
      }
      if (typeof answer !== "string" || answer === "") {
        throw badRequest("answer", "answer is required");
      }
      const r = captchas.check(captchaId, answer);
      if (r === "unknown" || r === "expired") {
        throw badRequest(
          "captcha_id",
          `The captcha is ${r === "unknown" ? "unknown or used" : "expired"}; get a new one`,
        );
      }
      if (r === "wrong") {
        throw badRequest("answer", "Wrong answer; get a new captcha and try again");
      }
      const account = await createAccount("signup");
      signups.inc();
      return account;
    };
    // Tests of real node processes need a known answer; never set this in production.
    const fixedAnswer = opts.captchaText ?? Deno.env.get("SUBSPACE_TEST_CAPTCHA_ANSWER");
    if (opts.captchaText === undefined && fixedAnswer !== undefined) {
      log.warn(
        "SUBSPACE_TEST_CAPTCHA_ANSWER is set: every captcha has the same answer (tests only)",
      );
    }
    const newCaptcha = () => captchas.create(fixedAnswer);

    const app = new Hono<AppEnv>();
    app.get("/v1/captcha", (c) => {
      const cap = newCaptcha();
      c.header("cache-control", "no-store");
      return c.json({ id: cap.id, svg: cap.svg, expires_at: Math.floor(cap.expiresAt / 1000) });
    });
    app.post("/v1/accounts", async (c) => {
      const body = await readJson(c.req.raw);
      const account = await signup(c, body.captcha_id, body.answer);
      return c.json({
        account,
        free_tokens: pricing.freeTokens,
        quota_period_seconds: pricing.quotaPeriodSeconds,
      }, 201);
    });
    app.get("/v1/account", async (c) => c.json(await accountState(requireAccount(c))));
    app.get("/signup", (c) => {
      const cap = newCaptcha();
      c.header("cache-control", "no-store");
      return c.html(renderSignupPage({ kind: "form", captchaId: cap.id, svg: cap.svg }));
    });
    app.post("/signup", async (c) => {
      const form = Object.fromEntries(await readFormLimited(c.req.raw, 4096));
      c.header("cache-control", "no-store");
      try {
        const account = await signup(c, form.captcha_id, form.answer);
        return c.html(
          renderSignupPage({
            kind: "done",
            account,
            freeTokens: pricing.freeTokens,
            periodSeconds: pricing.quotaPeriodSeconds,
            server: new URL(c.req.url).origin,
          }),
          201,
        );
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500) throw err;
        const cap = newCaptcha();
        return c.html(
          renderSignupPage({ kind: "form", captchaId: cap.id, svg: cap.svg, error: err.message }),
          err.status as 400,
        );
      }
    });

    app.get(ISSUER_DIRECTORY_PATH, (c) => {
      c.header("content-type", ISSUER_DIRECTORY_MEDIA_TYPE);
      c.header("cache-control", "public, max-age=300");
      return c.body(JSON.stringify(tokens.directory("/v1/tokens")));
    });

    app.post("/v1/tokens", async (c) => {
      const hash = requireAccount(c);
      const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (type === TOKEN_REQUEST_MEDIA_TYPE) {
        let request: TokenRequest;
        try {
          request = decodeTokenRequest(await readBodyLimited(c.req.raw, 4096, "Token request"));
        } catch (err) {
          if (err instanceof HttpError) throw err;
          throw badRequest("body", (err as Error).message);
        }
        const { blindSigs } = await tokens.issue(hash, [request]).catch(issueError);
        return c.body(blindSigs[0]! as Uint8Array<ArrayBuffer>, 200, {
          "content-type": TOKEN_RESPONSE_MEDIA_TYPE,
        });
      }
      if (type !== "application/json") {
        throw new HttpError(
          415,
          `Expected content-type ${TOKEN_REQUEST_MEDIA_TYPE} or application/json, got '${
            type || "none"
          }'`,
          { field: "content-type" },
        );
      }
      const body = await readJson(c.req.raw);
      const list = body.token_requests;
      if (!Array.isArray(list) || list.length === 0) {
        throw badRequest(
          "token_requests",
          "token_requests must be a non-empty array of base64url TokenRequests",
        );
      }
      if (list.length > config.maxTokensPerRequest) {
        throw badRequest(
          "token_requests",
          `At most ${config.maxTokensPerRequest} token requests per call, got ${list.length}`,
        );
      }
      const requests = list.map((item, i) => {
        try {
          return decodeTokenRequest(fromBase64Url(String(item), `token_requests[${i}]`));
        } catch (err) {
          throw badRequest("token_requests", `token_requests[${i}]: ${(err as Error).message}`);
        }
      });
      const { blindSigs, reservation } = await tokens.issue(hash, requests).catch(issueError);
      return c.json({
        token_responses: blindSigs.map((s) => toBase64Url(s)),
        free_remaining: reservation.freeLeft,
        credit: reservation.creditLeft,
      });
    });

    app.get("/v1/pricing", (c) =>
      c.json({
        ...pricingToJson(pricing),
        currency: "BTC",
        fees_enabled: invoices.enabled,
        confirmations: invoices.confirmations,
        invoice_ttl_seconds: config.invoiceTtl,
        how_to_buy: invoices.enabled
          ? "POST /v1/invoices {bundles} with 'Authorization: Bearer <account>', pay the BIP21 URI, then fetch tokens"
          : "This node does not sell tokens; use the free quota or ask the operator",
      }));
    app.post("/v1/invoices", async (c) => {
      const hash = requireAccount(c);
      const body = await readJson(c.req.raw);
      const bundles = body.bundles ?? 1;
      if (typeof bundles !== "number" || !Number.isSafeInteger(bundles)) {
        throw badRequest("bundles", "bundles must be an integer");
      }
      await accountState(hash);
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

    // ----- admin API
    app.post("/admin/api/accounts", async (c) => {
      requireAdmin(c);
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
      const account = await createAccount("admin");
      if (credit > 0) await store.credit(accountHash(parseAccountNumber(account)), credit);
      log.info("account created by admin", { credit });
      return c.json({ account }, 201);
    });
    app.get("/admin/api/accounts/:account", async (c) => {
      requireAdmin(c);
      return c.json(
        await accountState(accountHash(accountFromParam(c.req.param("account"), "account"))),
      );
    });
    app.post("/admin/api/accounts/:account/credit", async (c) => {
      requireAdmin(c);
      const hash = accountHash(accountFromParam(c.req.param("account"), "account"));
      const body = await readJson(c.req.raw);
      const n = body.tokens;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > 1e12) {
        throw badRequest("tokens", "tokens must be a positive integer");
      }
      if (!await store.credit(hash, n)) {
        throw new HttpError(404, "Unknown account", { field: "account" });
      }
      log.info("account credited by admin", { tokens: n });
      return c.json(await accountState(hash));
    });
    for (const [verb, disabled] of [["disable", true], ["enable", false]] as const) {
      app.post(`/admin/api/accounts/:account/${verb}`, async (c) => {
        requireAdmin(c);
        const hash = accountHash(accountFromParam(c.req.param("account"), "account"));
        if (!await store.setDisabled(hash, disabled)) {
          throw new HttpError(404, "Unknown account", { field: "account" });
        }
        return c.json(await accountState(hash));
      });
    }
    const adminPricing = () => ({
      ...pricingToJson(pricing),
      ...paymentSettingsToJson(payment),
      fees_enabled: invoices.enabled,
    });
    app.get("/admin/api/pricing", (c) => {
      requireAdmin(c);
      return c.json(adminPricing());
    });
    app.put("/admin/api/pricing", async (c) => {
      requireAdmin(c);
      const body = await readJson(c.req.raw);
      try {
        await services.setPricing(body);
        return c.json(adminPricing());
      } catch (err) {
        if (err instanceof PaymentSettingsError) throw badRequest(err.field, err.message);
        if (err instanceof RangeError) throw badRequest("body", err.message);
        throw err;
      }
    });
    app.get("/admin/api/tokens", async (c) => {
      requireAdmin(c);
      return c.json({
        ...tokens.stats,
        spent_kept: await store.spentCount(),
        accounts: await store.accountStats(),
        keys: ring.keys().map((k) => ({
          id: k.idHex,
          created_at: Math.floor(k.createdAt / 1000),
          sign_until: Math.floor(k.signUntil / 1000),
          expires_at: Math.floor(k.expiresAt / 1000),
        })),
      });
    });

    ctx.hooks.routes.push((root) => root.route("/", app));
  };
}

/** The quota plugin with production defaults. */
export const quotaPlugin = createQuotaPlugin();
