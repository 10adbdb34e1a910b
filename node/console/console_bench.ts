/**
 * Console hot paths: a logged-in overview page and a `/metrics` scrape through the app's fetch
 * handler (session lookup included), the overview JSON the island polls, and one scrypt
 * password check at the production cost. Results: docs/bench/console.md.
 */
import { DEFAULT_SCRYPT, hashPassword, verifyPassword } from "./password.ts";
import { consoleTestNode } from "./testing.ts";

const t = await consoleTestNode();
const c = t.client();
await c.firstLogin(t.oneTimePassword, "benchmark operator password");
const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
const get = (path: string) => t.node.fetch(new Request("http://x" + path, { headers: { cookie } }));
const stored = await hashPassword("benchmark operator password", DEFAULT_SCRYPT);

Deno.bench(
  "GET /console (overview page, logged in)",
  { group: "pages", baseline: true },
  async () => {
    await (await get("/console")).text();
  },
);
Deno.bench("GET /console/api/overview (island poll)", { group: "pages" }, async () => {
  await (await get("/console/api/overview")).text();
});
Deno.bench("GET /console/settings", { group: "pages" }, async () => {
  await (await get("/console/settings")).text();
});
Deno.bench("GET /metrics (session)", { group: "pages" }, async () => {
  await (await get("/metrics")).text();
});
Deno.bench("scrypt verify (N=2^15, r=8, p=1)", { n: 10 }, async () => {
  await verifyPassword("benchmark operator password", stored);
});

globalThis.addEventListener("unload", () => {
  t.close();
});
