/**
 * The console feature: login and sessions, the pages its manifest lists, the client bundle,
 * the overview JSON for islands, and the operator authentication ({@linkcode ADMIN_AUTH})
 * that the core's guard asks about `/admin/...` and `/metrics`.
 *
 * It is a consumer: it reads what federation, tokens and fees publish for it
 * (`NETWORK_CONSOLE`, `QUOTA_CONSOLE`, `PRICING_CONSOLE`, `PUBLIC_URL`) once the app is built,
 * and a page whose source no feature provides says "not available".
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { ComponentChildren, VNode } from "preact";
import { render } from "preact-render-to-string";
import { safeEqual } from "../admin_guard.ts";
import type { AppEnv, Feature, FeatureParts, NodeCore } from "../feature.ts";
import { readFormLimited } from "../body.ts";
import { HttpError, problemResponse } from "../errors.ts";
import { ADMIN_AUTH, type AdminAuth, NODE_IDENTITY } from "../services.ts";
import { VERSION } from "../version.ts";
import {
  clientKey,
  cookie,
  createSession,
  LOGIN_CSRF_COOKIE,
  overTls,
  parseCookies,
  randomToken,
  requestSession,
  sameOrigin,
  SESSION_COOKIE,
} from "./auth.ts";
import type {
  ConsoleManifest,
  Flash,
  LandingData,
  PageContext,
  PageInfo,
  RouteModule,
} from "./page.ts";
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
import {
  type ConsoleSources,
  NETWORK_CONSOLE,
  PRICING_CONSOLE,
  PUBLIC_URL,
  QUOTA_CONSOLE,
} from "./sources.ts";
import { CONSOLE_MIGRATIONS, ConsoleState, type SessionRecord } from "./state.ts";
import { overviewData } from "./overview.ts";
import { registerProcessMetrics } from "./metrics.ts";
import { type HealthCheck, HealthMonitor } from "./health.ts";

/** How often health is evaluated in the background (metrics, growth rates). */
const HEALTH_INTERVAL_MS = 15_000;

/** Options for {@linkcode consoleFeature}. */
export interface ConsoleOptions {
  /** The pages, layout, forms and browser assets (the manifest beside `main.ts`). */
  manifest: ConsoleManifest;
  /** scrypt cost for new password hashes (tests use a cheap one). */
  scrypt?: ScryptParams;
  /**
   * Receives the generated one-time password when no operator password is set. Default: one
   * warning log line (the only secret the node ever logs).
   */
  announcePassword?: (password: string, core: NodeCore) => void;
  /**
   * Writes the start-up banner (console URL and one-time password) for a person at a terminal.
   * Default: to stderr when it is a terminal; nothing otherwise (the log line is always there).
   */
  banner?: (text: string) => void;
}

/**
 * The short plain banner a terminal shows at start when a one-time password was generated.
 *
 * @example
 * ```ts
 * startupBanner("http://127.0.0.1:8080", "ab12-cd34");
 * ```
 */
export function startupBanner(url: string, password: string): string {
  return [
    "",
    `  Subspace operator console: ${url}/console/login`,
    `  One-time password:         ${password}`,
    "  (works once; then choose your own, or run `subspace admin passwd`)",
    "",
    "",
  ].join("\n");
}

function terminalBanner(text: string): void {
  try {
    if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode(text));
  } catch { /* no stderr */ }
}

/** scrypt cost for generated one-time passwords (random 100 bits; stretching adds nothing). */
const ONE_TIME_SCRYPT: ScryptParams = { N: 1 << 10, r: 8, p: 1 };
/** Largest console form body accepted. */
const MAX_FORM_BYTES = 64 * 1024;

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return new Uint8Array(d).toHex();
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

/** The sources the other features published (read once the app is built). */
function readSources(core: NodeCore): ConsoleSources {
  const sources: ConsoleSources = {};
  const network = core.service(NETWORK_CONSOLE);
  if (network !== undefined) sources.network = network;
  const quota = core.service(QUOTA_CONSOLE);
  if (quota !== undefined) sources.quota = quota;
  const pricing = core.service(PRICING_CONSOLE);
  if (pricing !== undefined) sources.pricing = pricing;
  const publicUrl = core.service(PUBLIC_URL);
  if (publicUrl !== undefined) sources.publicUrl = publicUrl;
  return sources;
}

/**
 * The console feature.
 *
 * @example
 * ```ts ignore
 * import { CONSOLE_MANIFEST } from "../../console_manifest.ts";
 * const node = await startNode(config, { features: [consoleFeature({ manifest: CONSOLE_MANIFEST })] });
 * ```
 */
export function consoleFeature(opts: ConsoleOptions): Feature {
  return { name: "console", install: (core) => installConsole(core, opts) };
}

async function installConsole(core: NodeCore, opts: ConsoleOptions): Promise<FeatureParts> {
  const { config } = core;
  const { manifest } = opts;
  const log = core.log.child("console");
  const database = await core.openDatabase("console", CONSOLE_MIGRATIONS);
  const state = new ConsoleState(database.db);
  const scrypt = opts.scrypt ?? DEFAULT_SCRYPT;
  // Read once the app is built (phase 2): every feature has published its services by then.
  let sources: ConsoleSources = {};
  let nodeId: string | undefined;
  const tls = config.tlsCert !== undefined;
  const ttlSeconds = config.consoleSessionTtl;
  // Compared against when no password is stored, so a failed login always costs one scrypt.
  let dummyHash: string | undefined;
  const dummy = async () => dummyHash ??= await hashPassword(generatePassword(), scrypt);

  // First start (or one-time password never replaced): print a fresh one-time password.
  const stored = await state.getPassword();
  let bannerPassword: string | undefined;
  // Several processes on one database: only the one holding this lock makes (and logs) it.
  if ((stored === undefined || stored.oneTime) && await core.store.leads("console-password")) {
    const password = generatePassword();
    bannerPassword = password;
    // 100 random bits need no key stretching: the cheapest scrypt keeps startup fast.
    await state.setPassword(await hashPassword(password, ONE_TIME_SCRYPT), true, core.now());
    (opts.announcePassword ??
      ((p) =>
        log.warn("no operator password is set; one-time console password generated", {
          password: p,
          login: "/console/login",
          hint: "it works once; then choose a password (or run `subspace admin passwd`)",
        })))(password, core);
  }

  const limiter = new LoginLimiter({ maxAttempts: config.consoleLoginAttempts, now: core.now });
  const logins = core.metrics.counter(
    "subspace_console_logins_total",
    "Console login attempts by result (ok, wrong_password, rate_limited, bad_csrf)",
  );
  const flashes = new Map<string, Flash>();

  // Metrics sampled for the charts. Counters are read once the app has registered them.
  let counters: { accepted: { get(): number }; delivered: { get(): number } } | undefined;
  const storedMessages = () => core.writer.storedCount;
  const series = new Series({
    intervalMs: config.consoleSampleInterval * 1000,
    sink: state,
    now: core.now,
    onError: (err) => log.error("metrics sample failed", { err }),
    read: () =>
      Promise.resolve({
        acceptedTotal: counters?.accepted.get() ?? 0,
        deliveredTotal: counters?.delivered.get() ?? 0,
        usedBytes: core.writer.usedBytes,
        storedMessages: storedMessages(),
      }),
  });
  await series.load();
  registerProcessMetrics(core, { storedMessages });
  const health = new HealthMonitor({ core, sources: () => sources, series });

  const { islandsJs, consoleCss } = manifest.assets;
  const jsHash = (await sha256Hex(islandsJs)).slice(0, 12);
  const cssHash = (await sha256Hex(consoleCss)).slice(0, 12);
  const nav = manifest.pages.map((p) => ({ href: p.path, label: p.route.title }));
  const Layout = manifest.layout;
  const Login = manifest.login.component;
  const Password = manifest.password.component;
  const scriptUrl = `/console/static/islands.${jsHash}.js`;
  const styleUrl = `/console/static/console.${cssHash}.css`;

  const pageInfo = (
    path: string,
    csrf: string,
    flash: Flash | undefined,
    script: boolean,
    problems?: HealthCheck[],
  ) => ({
    path,
    problems,
    csrf,
    flash,
    version: VERSION,
    nodeId,
    scriptUrl: script ? scriptUrl : undefined,
    styleUrl,
    nav,
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
    const session = await requestSession(c.req.raw, state, core.now());
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
    overviewData(core, series, w, {
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
      const report = await health.evaluate();
      const problems = report.checks.filter((ch) => ch.status !== "ok");
      const page = pageInfo(path, session.csrf, flash, true, problems);
      const pc: PageContext<unknown> = {
        req: c.req.raw,
        url: new URL(c.req.url),
        core,
        sources,
        series,
        overview,
        health: report,
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
        manifest.login.title,
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
      const s = await requestSession(req, state, core.now());
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
    await state.sweepSessions(core.now());
    const mustChange = current!.oneTime;
    const { token } = await createSession(state, {
      now: core.now(),
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
        manifest.password.title,
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
    await state.setPassword(await hashPassword(password, scrypt), false, core.now());
    log.info("console password changed; all sessions ended");
    const { session: fresh, token } = await createSession(state, {
      now: core.now(),
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

  /**
   * The console's answer to the core's guard on `/admin/...` and `/metrics`: a session that
   * has set its password, from this origin, with the session's CSRF token in `X-CSRF-Token`
   * for anything but GET and HEAD.
   */
  const adminAuth: AdminAuth = {
    async check(c) {
      const session = await requestSession(c.req.raw, state, core.now());
      const safe = c.req.method === "GET" || c.req.method === "HEAD";
      if (
        session !== undefined && !session.mustChangePassword && sameOrigin(c.req.raw) &&
        (safe || safeEqual(c.req.header("x-csrf-token") ?? "", session.csrf))
      ) {
        return undefined;
      }
      return unauthenticated(c);
    },
  };
  core.provide(ADMIN_AUTH, adminAuth);

  const routes = (app: Hono<AppEnv>) => {
    sources = readSources(core);
    nodeId = core.service(NODE_IDENTITY)?.id;
    // The core's routes are built before the features' and have registered these counters.
    counters = {
      accepted: core.metrics.counter(
        "subspace_messages_accepted_total",
        "Messages stored by POST",
      ),
      delivered: core.metrics.counter(
        "subspace_messages_delivered_total",
        "Messages returned to wallets by GET",
      ),
    };

    if (manifest.assets.faviconSvg !== undefined) {
      const icon = manifest.assets.faviconSvg;
      const serveIcon = () =>
        new Response(icon, {
          headers: {
            "content-type": "image/svg+xml",
            "cache-control": "public, max-age=86400",
            "x-content-type-options": "nosniff",
          },
        });
      app.get("/favicon.ico", serveIcon);
      app.get("/favicon.svg", serveIcon);
    }
    if (manifest.landing !== undefined) {
      const Landing = manifest.landing;
      app.get("/", async (c) => {
        const pricing = sources.pricing;
        const [p, status] = pricing === undefined
          ? [undefined, undefined]
          : await Promise.all([pricing.get(), pricing.status?.()]);
        const limits = core.limits.current;
        const data: LandingData = {
          origin: sources.publicUrl?.() ?? new URL(c.req.url).origin,
          version: VERSION,
          nodeId,
          quota: config.quota,
          maxPayloadBytes: limits.maxPayloadBytes,
          defaultTtlSeconds: limits.defaultTtlSeconds,
          maxTtlSeconds: limits.maxTtlSeconds,
          maxWaitSeconds: config.maxWait,
          maxStoreBytes: config.maxStoreBytes,
          operatorContact: config.operatorContact,
          styleUrl,
          ...(p === undefined ? {} : {
            pricing: {
              freeTokens: p.freeTokensPerPeriod,
              periodSeconds: p.periodSeconds,
              tokensPerBundle: p.tokensPerBundle,
              bundlePriceSats: p.bundlePriceSats,
              feesEnabled: status?.feesEnabled ?? false,
            },
          }),
        };
        return html(render(<Landing data={data} /> as VNode), 200, {
          "cache-control": "public, max-age=60",
        });
      });
    }
    app.on(["GET", "POST"], "/console/login", login);
    app.post("/console/logout", logout);
    app.on(["GET", "POST"], "/console/password", changePassword);
    app.get("/console/static/:file", async (c) => {
      const file = c.req.param("file");
      if (file === `console.${cssHash}.css`) {
        return new Response(consoleCss, {
          headers: {
            "content-type": "text/css; charset=utf-8",
            "cache-control": "public, max-age=31536000, immutable",
            "x-content-type-options": "nosniff",
          },
        });
      }
      const session = await requestSession(c.req.raw, state, core.now());
      if (session === undefined) return unauthenticated(c);
      if (file === `islands.${jsHash}.js`) {
        return new Response(islandsJs, {
          headers: {
            "content-type": "text/javascript; charset=utf-8",
            "cache-control": "private, max-age=31536000, immutable",
            "x-content-type-options": "nosniff",
          },
        });
      }
      return errorPage(404, "No such file.", session);
    });
    // Behind the core's guard on /admin/*: a session or the admin bearer token.
    app.get("/admin/api/health", async (c) => {
      const report = await health.evaluate();
      return c.json(report, report.status === "fail" ? 503 : 200, { "cache-control": "no-store" });
    });
    app.get(
      "/console/api/overview",
      guarded((c) => {
        const w = c.req.query("window") === "day" ? "day" : "hour";
        return Promise.resolve(c.json(overview(w), 200, { "cache-control": "no-store" }));
      }),
    );
    for (const { path, route } of manifest.pages) {
      app.on(["GET", "POST"], path, pageHandler(route as RouteModule<unknown>, path));
    }
    app.get("/console/", (c) => c.redirect("/console", 301));
    app.all(
      "/console/*",
      guarded((_c, session) => Promise.resolve(errorPage(404, "No such console page.", session))),
    );
  };

  return {
    routes,
    started(url) {
      series.start();
      health.start(HEALTH_INTERVAL_MS);
      if (bannerPassword !== undefined) {
        (opts.banner ?? terminalBanner)(
          startupBanner(sources.publicUrl?.() ?? url, bannerPassword),
        );
        bannerPassword = undefined;
      }
    },
    async close() {
      health.stop();
      await series.stop();
    },
  };
}
