/**
 * The console plugin: login and sessions, the page router for `routes/console/`, the client
 * bundle, the overview JSON for islands, `GET /metrics`, and the authentication guard in
 * front of `/admin/...`.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { ComponentChildren, VNode } from "preact";
import { render } from "preact-render-to-string";
import type { AppEnv, NodeContext } from "../context.ts";
import { readFormLimited } from "../body.ts";
import { HttpError, problemResponse } from "../errors.ts";
import { VERSION } from "../version.ts";
import { Layout } from "../../components/Layout.tsx";
import { CONSOLE_CSS, ISLANDS_JS } from "../../static/_bundle.gen.ts";
import Login, { title as loginTitle } from "../../routes/console/login.tsx";
import Password, { title as passwordTitle } from "../../routes/console/password.tsx";
import {
  bearerMatches,
  clientKey,
  cookie,
  createSession,
  LOGIN_CSRF_COOKIE,
  overTls,
  parseCookies,
  randomToken,
  requestSession,
  safeEqual,
  sameOrigin,
  SESSION_COOKIE,
} from "./auth.ts";
import type { Flash, PageContext, PageInfo, RouteModule } from "./page.ts";
import { PAGES } from "./pages.ts";
import {
  checkPassword,
  DEFAULT_SCRYPT,
  generatePassword,
  hashPassword,
  PASSWORD_MIN_LENGTH,
  type ScryptParams,
  verifyPassword,
} from "./password.ts";
import { LoginLimiter } from "./rate_limit.ts";
import { Series, type SeriesWindow } from "./series.ts";
import { consoleSources } from "./sources.ts";
import { ConsoleState, type SessionRecord } from "./state.ts";
import { overviewData } from "./overview.ts";
import { registerProcessMetrics } from "./metrics.ts";
import { wireSources } from "./adapters.ts";
import { DailyTally } from "./daily.ts";
import { toHex } from "../../client/mod.ts";

/** Options for {@linkcode createConsolePlugin}. */
export interface ConsoleOptions {
  /** scrypt cost for new password hashes (tests use a cheap one). */
  scrypt?: ScryptParams;
  /**
   * Receives the generated one-time password when no operator password is set. Default: one
   * warning log line (the only secret the node ever logs).
   */
  announcePassword?: (password: string, ctx: NodeContext) => void;
}

/** scrypt cost for generated one-time passwords (random 100 bits; stretching adds nothing). */
const ONE_TIME_SCRYPT: ScryptParams = { N: 1 << 10, r: 8, p: 1 };
/** Largest console form body accepted. */
const MAX_FORM_BYTES = 64 * 1024;

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toHex(new Uint8Array(d));
}

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

function html(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response("<!DOCTYPE html>" + body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS, ...headers },
  });
}

function redirect(location: string, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("location", location);
  h.set("cache-control", "no-store");
  return new Response(null, { status: 303, headers: h });
}

/** A `next` target after login: only console paths on this origin. */
function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 500 || !next.startsWith("/console") || next.includes("\\")) {
    return "/console";
  }
  try {
    const u = new URL(next, "http://x");
    return u.origin === "http://x" && u.pathname.startsWith("/console") &&
        !u.pathname.startsWith("/console/login")
      ? u.pathname + u.search
      : "/console";
  } catch {
    return "/console";
  }
}

/** Builds the console plugin. */
export function createConsolePlugin(
  opts: ConsoleOptions = {},
): (ctx: NodeContext) => Promise<void> {
  return async function consolePlugin(ctx: NodeContext): Promise<void> {
    const { config } = ctx;
    const log = ctx.log.child("console");
    const state = new ConsoleState(ctx.store);
    const scrypt = opts.scrypt ?? DEFAULT_SCRYPT;
    const sources = consoleSources(ctx);
    const tls = config.tlsCert !== undefined;
    const ttlSeconds = config.consoleSessionTtl;
    // Compared against when no password is stored, so a failed login always costs one scrypt.
    let dummyHash: string | undefined;
    const dummy = async () => dummyHash ??= await hashPassword(generatePassword(), scrypt);

    // First start (or one-time password never replaced): print a fresh one-time password.
    const stored = await state.getPassword();
    if (stored === undefined || stored.oneTime) {
      const password = generatePassword();
      // 100 random bits need no key stretching: the cheapest scrypt keeps startup fast.
      await state.setPassword(await hashPassword(password, ONE_TIME_SCRYPT), true, ctx.now());
      (opts.announcePassword ??
        ((p) =>
          log.warn("no operator password is set; one-time console password generated", {
            password: p,
            login: "/console/login",
            hint: "it works once; then choose a password (or run `subspace admin passwd`)",
          })))(password, ctx);
    }

    const limiter = new LoginLimiter({ maxAttempts: config.consoleLoginAttempts, now: ctx.now });
    const logins = ctx.metrics.counter(
      "subspace_console_logins_total",
      "Console login attempts by result (ok, wrong_password, rate_limited, bad_csrf)",
    );
    const flashes = new Map<string, Flash>();

    // Metrics sampled for the charts. Counters are read once the app has registered them.
    let counters: { accepted: { get(): number }; delivered: { get(): number } } | undefined;
    const storedMessages = () => ctx.writer.storedCount;
    const series = new Series({
      intervalMs: config.consoleSampleInterval * 1000,
      sink: state,
      now: ctx.now,
      onError: (err) => log.error("metrics sample failed", { err }),
      read: () =>
        Promise.resolve({
          acceptedTotal: counters?.accepted.get() ?? 0,
          deliveredTotal: counters?.delivered.get() ?? 0,
          usedBytes: ctx.writer.usedBytes,
          storedMessages: storedMessages(),
        }),
    });
    await series.load();
    registerProcessMetrics(ctx, { storedMessages });
    const tally = new DailyTally({ name: "tokens_daily", store: state, now: ctx.now });
    await tally.load();
    const saveTally = async () => {
      try {
        tally.tick();
        await tally.save();
      } catch (err) {
        log.error("saving daily token totals failed", { err });
      }
    };
    const tallyTimer = setInterval(saveTally, 60_000);
    ctx.hooks.close.push(async () => {
      clearInterval(tallyTimer);
      await series.stop();
      if (tally.tracking) await saveTally();
    });

    const jsHash = (await sha256Hex(ISLANDS_JS)).slice(0, 12);
    const cssHash = (await sha256Hex(CONSOLE_CSS)).slice(0, 12);
    const scriptUrl = `/console/static/islands.${jsHash}.js`;
    const styleUrl = `/console/static/console.${cssHash}.css`;

    const pageInfo = (path: string, csrf: string, flash: Flash | undefined, script: boolean) => ({
      path,
      csrf,
      flash,
      version: VERSION,
      nodeId: ctx.nodeId,
      scriptUrl: script ? scriptUrl : undefined,
      styleUrl,
    } satisfies PageInfo);

    const doc = (title: string, page: PageInfo, body: ComponentChildren, bare = false) =>
      render(<Layout title={title} page={page} bare={bare}>{body}</Layout> as VNode);

    const sessionCookie = (req: Request, token: string, maxAge = ttlSeconds) =>
      cookie(SESSION_COOKIE, token, { maxAgeSeconds: maxAge, secure: overTls(req, tls) });

    const unauthenticated = (c: Context<AppEnv>) => {
      const path = c.req.path;
      if (
        c.req.method === "GET" && path.startsWith("/console") &&
        !path.startsWith("/console/api/") && !path.startsWith("/console/static/")
      ) {
        const url = new URL(c.req.url);
        return redirect(`/console/login?next=${encodeURIComponent(url.pathname + url.search)}`);
      }
      return problemResponse(401, "Log in to the console or send the admin bearer token", {
        headers: { "www-authenticate": 'Bearer realm="subspace"' },
      });
    };

    const errorPage = (status: number, text: string, session?: SessionRecord) =>
      html(
        doc(
          status === 403 ? "Forbidden" : status === 404 ? "Not found" : "Error",
          pageInfo("", session?.csrf ?? "", { kind: "error", text }, false),
          <p>
            <a href="/console">Back to the console</a>
          </p>,
          session === undefined || session.mustChangePassword,
        ),
        status,
      );

    /** Checks the session (and for POSTs the origin and CSRF token) before `fn`. */
    const guarded = (
      fn: (c: Context<AppEnv>, s: SessionRecord, form: FormData | undefined) => Promise<Response>,
      opts: { allowMustChange?: boolean } = {},
    ) =>
    async (c: Context<AppEnv>): Promise<Response> => {
      const session = await requestSession(c.req.raw, state, ctx.now());
      if (session === undefined) return unauthenticated(c);
      if (session.mustChangePassword && !opts.allowMustChange) {
        return c.req.method === "GET" && !c.req.path.startsWith("/console/api/")
          ? redirect("/console/password")
          : problemResponse(403, "Set the operator password first");
      }
      let form: FormData | undefined;
      if (c.req.method === "POST") {
        if (!sameOrigin(c.req.raw)) return errorPage(403, "Cross-origin form refused.", session);
        try {
          form = await readFormLimited(c.req.raw, MAX_FORM_BYTES);
        } catch (err) {
          if (err instanceof HttpError && err.status === 413) {
            return errorPage(413, "Form too large.", session);
          }
          throw err;
        }
        const sent = form.get("_csrf");
        if (typeof sent !== "string" || !safeEqual(sent, session.csrf)) {
          log.warn("console form refused: bad CSRF token", { path: c.req.path });
          return errorPage(
            403,
            "The form's security token is missing or wrong. Reload the page and try again.",
            session,
          );
        }
      }
      return await fn(c, session, form);
    };

    const overview = (w: SeriesWindow) =>
      overviewData(ctx, series, w, {
        acceptedTotal: counters?.accepted.get() ?? 0,
        deliveredTotal: counters?.delivered.get() ?? 0,
        storedMessages: storedMessages(),
      });

    const pageHandler = (mod: RouteModule<unknown>, path: string) =>
      guarded(async (c, session, form) => {
        const method = c.req.method as "GET" | "POST";
        const fn = mod.handler[method];
        if (fn === undefined) return errorPage(405, `${method} is not allowed here.`, session);
        const flash = flashes.get(session.id);
        flashes.delete(session.id);
        const page = pageInfo(path, session.csrf, flash, true);
        const pc: PageContext<unknown> = {
          req: c.req.raw,
          url: new URL(c.req.url),
          node: ctx,
          sources,
          series,
          overview,
          session,
          page,
          form,
          endAllSessions: async () => {
            const n = await state.deleteAllSessions();
            log.info("all console sessions ended", { sessions: n });
          },
          render: (data, init = {}) => {
            const p = init.flash ? { ...page, flash: init.flash } : page;
            return html(doc(mod.title, p, mod.default({ data, page: p })), init.status ?? 200);
          },
          redirect: (to, f) => {
            if (f) flashes.set(session.id, f);
            if (flashes.size > 1000) flashes.delete(flashes.keys().next().value!);
            return redirect(to);
          },
        };
        return await fn(pc);
      });

    // --- Login, logout, password ------------------------------------------------------------

    const loginPage = (req: Request, next: string, error: string | undefined, status: number) => {
      const csrf = randomToken();
      return html(
        doc(
          loginTitle,
          pageInfo("/console/login", "", undefined, false),
          <Login csrf={csrf} next={next} error={error} />,
          true,
        ),
        status,
        {
          "set-cookie": cookie(LOGIN_CSRF_COOKIE, csrf, {
            maxAgeSeconds: 3600,
            secure: overTls(req, tls),
            path: "/console/login",
          }),
        },
      );
    };

    const login = async (c: Context<AppEnv>): Promise<Response> => {
      const req = c.req.raw;
      if (c.req.method === "GET") {
        const next = safeNext(c.req.query("next"));
        const s = await requestSession(req, state, ctx.now());
        if (s !== undefined) return redirect(s.mustChangePassword ? "/console/password" : next);
        return loginPage(req, next, undefined, 200);
      }
      if (!sameOrigin(req)) return problemResponse(403, "Cross-origin login refused");
      let form: FormData;
      try {
        form = await readFormLimited(req, MAX_FORM_BYTES);
      } catch {
        return problemResponse(413, "Form too large");
      }
      const next = safeNext(String(form.get("next") ?? ""));
      const sent = form.get("_csrf");
      const expected = parseCookies(req.headers.get("cookie")).get(LOGIN_CSRF_COOKIE);
      if (typeof sent !== "string" || expected === undefined || !safeEqual(sent, expected)) {
        logins.inc({ result: "bad_csrf" });
        return loginPage(req, next, "The login form expired. Please try again.", 403);
      }
      const key = clientKey(c);
      const decision = limiter.attempt(key);
      if (!decision.allowed) {
        logins.inc({ result: "rate_limited" });
        log.warn("console login rate limited");
        const res = loginPage(
          req,
          next,
          `Too many login attempts. Try again in ${decision.retryAfterSeconds} s.`,
          429,
        );
        res.headers.set("retry-after", String(decision.retryAfterSeconds));
        return res;
      }
      const password = String(form.get("password") ?? "").slice(0, 4096);
      const current = await state.getPassword();
      let ok = await verifyPassword(password, current?.hash ?? await dummy()) &&
        current !== undefined;
      if (ok && current!.oneTime) ok = await state.consumeOneTimePassword(current!.hash);
      if (!ok) {
        logins.inc({ result: "wrong_password" });
        log.warn("console login failed: wrong password");
        return loginPage(req, next, "Wrong password.", 401);
      }
      limiter.succeeded(key);
      await state.sweepSessions(ctx.now());
      const mustChange = current!.oneTime;
      const { token } = await createSession(state, {
        now: ctx.now(),
        ttlSeconds,
        mustChangePassword: mustChange,
      });
      logins.inc({ result: "ok" });
      log.info("console login", { oneTimePassword: mustChange });
      const headers = new Headers();
      headers.append("set-cookie", sessionCookie(req, token));
      headers.append(
        "set-cookie",
        cookie(LOGIN_CSRF_COOKIE, "", {
          maxAgeSeconds: 0,
          secure: overTls(req, tls),
          path: "/console/login",
        }),
      );
      return redirect(mustChange ? "/console/password" : next, headers);
    };

    const passwordPage = (session: SessionRecord, error: string | undefined, status: number) =>
      html(
        doc(
          passwordTitle,
          pageInfo("/console/password", session.csrf, undefined, false),
          <Password
            csrf={session.csrf}
            firstTime={session.mustChangePassword}
            minLength={PASSWORD_MIN_LENGTH}
            error={error}
          />,
          session.mustChangePassword,
        ),
        status,
      );

    const changePassword = guarded(async (c, session, form) => {
      if (c.req.method === "GET") return passwordPage(session, undefined, 200);
      const get = (k: string) => String(form?.get(k) ?? "");
      if (!session.mustChangePassword) {
        const decision = limiter.attempt(clientKey(c));
        if (!decision.allowed) {
          return passwordPage(session, "Too many attempts. Try again later.", 429);
        }
        const cur = await state.getPassword();
        if (cur === undefined || !(await verifyPassword(get("current"), cur.hash))) {
          return passwordPage(session, "The current password is wrong.", 403);
        }
      }
      const password = get("password");
      if (password !== get("confirm")) {
        return passwordPage(session, "The two new passwords differ.", 422);
      }
      try {
        checkPassword(password);
      } catch (err) {
        return passwordPage(session, (err as Error).message, 422);
      }
      await state.setPassword(await hashPassword(password, scrypt), false, ctx.now());
      log.info("console password changed; all sessions ended");
      const { session: fresh, token } = await createSession(state, {
        now: ctx.now(),
        ttlSeconds,
        mustChangePassword: false,
      });
      flashes.set(fresh.id, {
        kind: "ok",
        text: "Password changed. Other sessions were logged out.",
      });
      return redirect("/console", { "set-cookie": sessionCookie(c.req.raw, token) });
    }, { allowMustChange: true });

    const logout = guarded(async (c, session) => {
      await state.deleteSession(session.id);
      return redirect("/console/login", { "set-cookie": sessionCookie(c.req.raw, "", 0) });
    }, { allowMustChange: true });

    // --- Routes -----------------------------------------------------------------------------

    /** Authentication in front of `/admin/...` (bearer token, or a session with CSRF header). */
    const adminGuard = async (c: Context<AppEnv>, next: () => Promise<void>) => {
      if (bearerMatches(c.req.raw, config.adminToken)) return await next();
      const session = await requestSession(c.req.raw, state, ctx.now());
      const safe = c.req.method === "GET" || c.req.method === "HEAD";
      if (
        session !== undefined && !session.mustChangePassword && sameOrigin(c.req.raw) &&
        (safe || safeEqual(c.req.header("x-csrf-token") ?? "", session.csrf))
      ) {
        return await next();
      }
      return unauthenticated(c);
    };

    let refreshMetrics = () => {};
    // Guards go first so that they run before any feature's /admin routes.
    ctx.hooks.routes.unshift((app: Hono<AppEnv>) => {
      app.use("/admin", adminGuard);
      app.use("/admin/*", adminGuard);
      app.get("/metrics", async (c) => {
        let ok = bearerMatches(c.req.raw, config.adminToken);
        if (!ok) {
          const s = await requestSession(c.req.raw, state, ctx.now());
          ok = s !== undefined && !s.mustChangePassword;
        }
        if (!ok) return unauthenticated(c);
        refreshMetrics();
        return new Response(ctx.metrics.render(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
            "cache-control": "no-store",
          },
        });
      });
    });

    ctx.hooks.routes.push((app: Hono<AppEnv>) => {
      // The app has registered the core counters by now.
      counters = {
        accepted: ctx.metrics.counter(
          "subspace_messages_accepted_total",
          "Messages stored by POST",
        ),
        delivered: ctx.metrics.counter(
          "subspace_messages_delivered_total",
          "Messages returned to wallets by GET",
        ),
      };
      series.start();
      // Every plugin has run: connect the features this node has.
      refreshMetrics = wireSources(ctx, sources, tally).refreshMetrics;

      app.on(["GET", "POST"], "/console/login", login);
      app.post("/console/logout", logout);
      app.on(["GET", "POST"], "/console/password", changePassword);
      app.get("/console/static/:file", async (c) => {
        const file = c.req.param("file");
        if (file === `console.${cssHash}.css`) {
          return new Response(CONSOLE_CSS, {
            headers: {
              "content-type": "text/css; charset=utf-8",
              "cache-control": "public, max-age=31536000, immutable",
              "x-content-type-options": "nosniff",
            },
          });
        }
        const session = await requestSession(c.req.raw, state, ctx.now());
        if (session === undefined) return unauthenticated(c);
        if (file === `islands.${jsHash}.js`) {
          return new Response(ISLANDS_JS, {
            headers: {
              "content-type": "text/javascript; charset=utf-8",
              "cache-control": "private, max-age=31536000, immutable",
              "x-content-type-options": "nosniff",
            },
          });
        }
        return errorPage(404, "No such file.", session);
      });
      app.get(
        "/console/api/overview",
        guarded((c) => {
          const w = c.req.query("window") === "day" ? "day" : "hour";
          return Promise.resolve(c.json(overview(w), 200, { "cache-control": "no-store" }));
        }),
      );
      for (const [path, mod] of Object.entries(PAGES)) {
        app.on(["GET", "POST"], path, pageHandler(mod as RouteModule<unknown>, path));
      }
      app.get("/console/", (c) => c.redirect("/console", 301));
      app.all(
        "/console/*",
        guarded((_c, session) => Promise.resolve(errorPage(404, "No such console page.", session))),
      );
    });
  };
}

/** The console plugin with default options. */
export const consolePlugin: (ctx: NodeContext) => Promise<void> = createConsolePlugin();
