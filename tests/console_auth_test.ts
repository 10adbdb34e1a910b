/**
 * Console access control, through the app's fetch handler: nothing under /console, /admin or
 * /metrics answers without a session (or the admin bearer token), the one-time password,
 * CSRF tokens, cookie attributes, login rate limiting, logout and `admin passwd`.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { Hono } from "hono";
import type { AppEnv, Feature } from "../node/mod.ts";
import { consoleTestNode, csrfOf } from "../node/console/testing.ts";

const NEW_PASSWORD = "a much better password";

Deno.test("without a session nothing under /console, /admin or /metrics answers", async () => {
  const t = await consoleTestNode({ args: ["--admin-token", "s3cret-token-for-scripts"] });
  try {
    const c = t.client();
    for (
      const path of [
        "/console",
        "/console/network",
        "/console/quotas",
        "/console/pricing",
        "/console/settings",
        "/console/nope",
      ]
    ) {
      const r = await c.request(path, { redirect: "manual" });
      assert.equal(r.status, 303, path);
      assert.equal(r.headers.get("location"), `/console/login?next=${encodeURIComponent(path)}`);
      assert.equal(await r.text(), "");
    }
    for (
      const [method, path] of [
        ["GET", "/console/api/overview"],
        ["GET", "/metrics"],
        ["GET", "/admin"],
        ["GET", "/admin/api/accounts"],
        ["POST", "/admin/api/pricing"],
        ["POST", "/console/pricing"],
        ["POST", "/console/quotas"],
        ["POST", "/console/logout"],
      ] as const
    ) {
      const r = await c.request(path, { method, redirect: "manual" });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.headers.get("content-type"), "application/problem+json");
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
      await r.body?.cancel();
    }
    // The islands bundle needs a session; only the stylesheet (for the login page) is public.
    const login = await c.page("/console/login");
    assert.equal(login.status, 200);
    const css = /href="(\/console\/static\/console\.[0-9a-f]+\.css)"/.exec(login.html)![1]!;
    assert.equal((await c.page(css)).status, 200);
    const js = await c.request("/console/static/islands.000000000000.js");
    assert.equal(js.status, 401);
    await js.body?.cancel();
    // A wrong bearer token is refused, the right one works for /metrics and passes /admin.
    const wrong = await c.request("/metrics", { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await c.request("/metrics", {
      headers: { authorization: "Bearer s3cret-token-for-scripts" },
    });
    assert.equal(right.status, 200);
    assert.match(right.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    assert.match(await right.text(), /^# HELP /m);
    const admin = await c.request("/admin/api/unknown", {
      headers: { authorization: "Bearer s3cret-token-for-scripts" },
    });
    assert.equal(admin.status, 404, "past the guard: no such admin route");
    await admin.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("the one-time password works once and only opens the password page", async () => {
  const t = await consoleTestNode();
  try {
    const c = t.client();
    assert.match(t.oneTimePassword, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    const r = await c.login(t.oneTimePassword, "/console/pricing");
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/console/password");
    // Until a password is set, everything else leads back to the password page.
    const blocked = await c.request("/console/settings", { redirect: "manual" });
    assert.equal(blocked.headers.get("location"), "/console/password");
    const metrics = await c.request("/metrics");
    assert.equal(metrics.status, 401);
    await metrics.body?.cancel();
    // It cannot be used a second time.
    const again = t.client();
    assert.equal((await again.login(t.oneTimePassword)).status, 401);
    // Mismatched and short passwords are refused.
    const page = await c.page("/console/password");
    assert.match(page.html, /logged in with the one-time password/);
    const differ = await c.post("/console/password", {
      _csrf: csrfOf(page.html),
      password: NEW_PASSWORD,
      confirm: NEW_PASSWORD + "x",
    });
    assert.equal(differ.status, 422);
    const short = await c.post("/console/password", {
      _csrf: csrfOf(page.html),
      password: "short",
      confirm: "short",
    });
    assert.equal(short.status, 422);
    assert.match(await short.text(), /at least 10 characters/);
    const set = await c.post("/console/password", {
      _csrf: csrfOf(page.html),
      password: NEW_PASSWORD,
      confirm: NEW_PASSWORD,
    });
    assert.equal(set.status, 303);
    assert.equal(set.headers.get("location"), "/console");
    const overview = await c.page("/console");
    assert.equal(overview.status, 200);
    assert.match(overview.html, /Password changed/);
    // The new password logs in; the old one-time one does not.
    assert.equal((await t.client().login(NEW_PASSWORD)).status, 303);
    assert.equal((await t.client().login(t.oneTimePassword)).status, 401);
  } finally {
    await t.close();
  }
});

Deno.test("session cookie is HttpOnly and SameSite=Strict, and Secure behind TLS", async () => {
  const t = await consoleTestNode();
  try {
    const c = t.client();
    await c.firstLogin(t.oneTimePassword, NEW_PASSWORD);
    const plain = await t.client().login(NEW_PASSWORD);
    const cookie = plain.headers.getSetCookie().find((x) => x.startsWith("subspace_session="))!;
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, /Secure/);
    const proxied = t.client();
    const { html } = await proxied.page("/console/login");
    const res = await proxied.post(
      "/console/login",
      { _csrf: csrfOf(html), password: NEW_PASSWORD, next: "/console" },
      { "x-forwarded-proto": "https" },
    );
    assert.match(
      res.headers.getSetCookie().find((x) => x.startsWith("subspace_session="))!,
      /; Secure/,
    );
    // The session token itself is not stored: the console's database holds its SHA-256.
    const token = c.cookies.get("subspace_session")!;
    const db = new DatabaseSync(`${t.node.dataDir}/console.db`, { readOnly: true });
    const rows = db.prepare("SELECT id FROM console_sessions").all() as { id: string }[];
    db.close();
    assert.ok(rows.length >= 2);
    assert.ok(rows.every((r) => r.id !== token && /^[0-9a-f]{64}$/.test(r.id)));
  } finally {
    await t.close();
  }
});

Deno.test("forms with a missing or wrong CSRF token, or from another origin, are refused", async () => {
  const t = await consoleTestNode();
  try {
    const c = t.client();
    await c.firstLogin(t.oneTimePassword, NEW_PASSWORD);
    const wrong = await c.post("/console/settings", {
      _csrf: "x".repeat(43),
      action: "logout-all",
    });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /security token is missing or wrong/);
    const missing = await c.post("/console/settings", { action: "logout-all" });
    assert.equal(missing.status, 403);
    await missing.body?.cancel();
    const { html } = await c.page("/console/settings");
    const cross = await c.post(
      "/console/settings",
      { _csrf: csrfOf(html), action: "logout-all" },
      { origin: "https://evil.example" },
    );
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
    // Still logged in: none of these did anything.
    assert.equal((await c.page("/console/settings")).status, 200);
    // The login form has its own (double-submit) token.
    const fresh = t.client();
    await fresh.page("/console/login");
    const bad = await fresh.post("/console/login", { _csrf: "forged", password: NEW_PASSWORD });
    assert.equal(bad.status, 403);
    assert.equal(fresh.cookies.has("subspace_session"), false);
    // With the right token the same action works.
    const ok = await c.post("/console/settings", { _csrf: csrfOf(html), action: "logout-all" });
    assert.equal(ok.status, 303);
    const after = await c.request("/console/settings", { redirect: "manual" });
    assert.equal(after.status, 303);
    assert.match(after.headers.get("location")!, /^\/console\/login/);
  } finally {
    await t.close();
  }
});

Deno.test("login attempts are rate limited per client", async () => {
  const t = await consoleTestNode({ args: ["--console-login-attempts", "3"] });
  try {
    const c = t.client();
    for (let i = 0; i < 3; i++) {
      const r = await c.login("wrong password " + i);
      assert.equal(r.status, 401);
      assert.match(await r.text(), /Wrong password/);
    }
    const limited = await c.login(t.oneTimePassword);
    assert.equal(limited.status, 429, "even the right password waits");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.match(await limited.text(), /Too many login attempts/);
    const metrics = t.node.core.metrics.render();
    assert.match(metrics, /subspace_console_logins_total\{result="wrong_password"\} 3/);
    assert.match(metrics, /subspace_console_logins_total\{result="rate_limited"\} 1/);
  } finally {
    await t.close();
  }
});

Deno.test("logout ends the session; next= cannot redirect off the console", async () => {
  const t = await consoleTestNode();
  try {
    const c = t.client();
    await c.firstLogin(t.oneTimePassword, NEW_PASSWORD);
    const evil = await t.client().login(NEW_PASSWORD, "//evil.example/console");
    assert.equal(evil.headers.get("location"), "/console");
    const deep = await t.client().login(NEW_PASSWORD, "/console/quotas?q=12");
    assert.equal(deep.headers.get("location"), "/console/quotas?q=12");
    const token = c.cookies.get("subspace_session")!;
    const out = await c.submit("/console", {}, "/console/logout");
    assert.equal(out.status, 303);
    assert.equal(c.cookies.has("subspace_session"), false);
    // The old cookie no longer works even if replayed.
    const replay = await c.request("/console", {
      headers: { cookie: `subspace_session=${token}` },
      redirect: "manual",
    });
    assert.equal(replay.status, 303);
    assert.match(replay.headers.get("location")!, /^\/console\/login/);
  } finally {
    await t.close();
  }
});

Deno.test("`subspace admin passwd` sets the password and ends every session", async () => {
  const t = await consoleTestNode();
  try {
    const c = t.client();
    await c.firstLogin(t.oneTimePassword, NEW_PASSWORD);
    assert.equal((await c.page("/console")).status, 200);
    const main = new URL("../main.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "admin", "passwd", "--data", t.node.dataDir],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode("set from the command line\n"));
    await w.close();
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /Operator password changed; 1 console session ended/);
    const gone = await c.request("/console", { redirect: "manual" });
    assert.equal(gone.status, 303, "the old session was ended");
    assert.equal((await t.client().login(NEW_PASSWORD)).status, 401);
    assert.equal((await t.client().login("set from the command line")).status, 303);
  } finally {
    await t.close();
  }
});

Deno.test("a console session passes the core's guard; unsafe admin calls need its CSRF header", async () => {
  const echo: Feature = {
    name: "admin echo",
    install: () => ({
      routes: (app: Hono<AppEnv>) => {
        app.get("/admin/api/echo", (c) => c.text("read"));
        app.post("/admin/api/echo", (c) => c.text("written"));
      },
    }),
  };
  const t = await consoleTestNode({ features: [echo] });
  try {
    const c = t.client();
    await c.firstLogin(t.oneTimePassword, NEW_PASSWORD);
    const csrf = csrfOf((await c.page("/console/settings")).html);
    const metrics = await c.request("/metrics");
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /subspace_console_logins_total\{result="ok"\}/);
    const read = await c.request("/admin/api/echo");
    assert.equal(read.status, 200);
    assert.equal(await read.text(), "read");
    for (
      const [what, headers] of [
        ["no CSRF header", {}],
        ["a wrong CSRF header", { "x-csrf-token": "x".repeat(43) }],
        ["another origin", { "x-csrf-token": csrf, origin: "https://evil.example" }],
      ] as const
    ) {
      const r = await c.request("/admin/api/echo", { method: "POST", headers });
      assert.equal(r.status, 401, what);
      await r.body?.cancel();
    }
    const write = await c.request("/admin/api/echo", {
      method: "POST",
      headers: { "x-csrf-token": csrf },
    });
    assert.equal(write.status, 200);
    assert.equal(await write.text(), "written");
  } finally {
    await t.close();
  }
});
