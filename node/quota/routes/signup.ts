/**
 * Captcha signup: `GET /v1/captcha`, `POST /v1/accounts` (JSON) and the page without
 * JavaScript, `GET|POST /signup`. Each address gets `--signups-per-hour` attempts.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { readFormLimited } from "../../body.ts";
import { badRequest, HttpError } from "../../errors.ts";
import type { AppEnv } from "../../feature.ts";
import { createAccount } from "../accounts.ts";
import { renderSignupPage } from "../signup_page.tsx";
import { type QuotaRoutesContext, readJson } from "./_shared.ts";

function remoteAddress(c: Context<AppEnv>): string | undefined {
  return (c.env as AppEnv["Bindings"] | undefined)?.remoteAddr?.hostname;
}

/** Adds the signup routes. */
export function signupRoutes(app: Hono<AppEnv>, q: QuotaRoutesContext): void {
  const signup = async (c: Context<AppEnv>, captchaId: unknown, answer: unknown) => {
    if (!q.signupLimiter.take(remoteAddress(c))) {
      throw new HttpError(429, "Too many signup attempts from this address; try again later", {
        headers: { "retry-after": String(q.signupLimiter.retryAfterSeconds(remoteAddress(c))) },
      });
    }
    if (typeof captchaId !== "string" || captchaId === "") {
      throw badRequest("captcha_id", "captcha_id is required (GET /v1/captcha)");
    }
    if (typeof answer !== "string" || answer === "") {
      throw badRequest("answer", "answer is required");
    }
    const r = await q.captchas.check(captchaId, answer);
    if (r === "unknown" || r === "expired") {
      throw badRequest(
        "captcha_id",
        `The captcha is ${r === "unknown" ? "unknown or used" : "expired"}; get a new one`,
      );
    }
    if (r === "wrong") {
      throw badRequest("answer", "Wrong answer; get a new captcha and try again");
    }
    const account = await createAccount(q.store, q.now(), "signup");
    q.signups.inc();
    return account;
  };

  app.get("/v1/captcha", async (c) => {
    const cap = await q.newCaptcha(remoteAddress(c));
    c.header("cache-control", "no-store");
    return c.json({ id: cap.id, svg: cap.svg, expires_at: Math.floor(cap.expiresAt / 1000) });
  });
  app.post("/v1/accounts", async (c) => {
    const body = await readJson(c.req.raw);
    const account = await signup(c, body.captcha_id, body.answer);
    const free = q.freeQuota.current();
    return c.json({
      account,
      free_tokens: free.freeTokens,
      quota_period_seconds: free.periodSeconds,
    }, 201);
  });
  app.get("/signup", async (c) => {
    const cap = await q.newCaptcha(remoteAddress(c));
    c.header("cache-control", "no-store");
    return c.html(renderSignupPage({ kind: "form", captchaId: cap.id, svg: cap.svg }));
  });
  app.post("/signup", async (c) => {
    const form = Object.fromEntries(await readFormLimited(c.req.raw, 4096));
    c.header("cache-control", "no-store");
    try {
      const account = await signup(c, form.captcha_id, form.answer);
      const free = q.freeQuota.current();
      return c.html(
        renderSignupPage({
          kind: "done",
          account,
          freeTokens: free.freeTokens,
          periodSeconds: free.periodSeconds,
          server: new URL(c.req.url).origin,
        }),
        201,
      );
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      const cap = await q.newCaptcha(remoteAddress(c));
      return c.html(
        renderSignupPage({ kind: "form", captchaId: cap.id, svg: cap.svg, error: err.message }),
        err.status as 400,
      );
    }
  });
}
