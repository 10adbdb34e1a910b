/**
 * CORS on the wallet API (`node/cors.ts`): preflights are answered, every wallet answer (errors
 * included) carries `Access-Control-Allow-Origin` and the headers wallets read, `--cors-origins`
 * narrows the origins, and the console, `/admin` and `/metrics` never answer cross-origin.
 */
import assert from "node:assert/strict";
import { standardFeatures } from "../features.ts";
import { ConfigError, loadConfig } from "../node/config.ts";
import { postJson, randomPayload, randomTag, testNode } from "../node/testing.ts";

const BASE = "http://node.test";
const ORIGIN = "https://wallet.example";

function preflight(path: string, origin = ORIGIN, method = "POST"): Request {
  return new Request(BASE + path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type",
    },
  });
}

Deno.test("cors: preflights and answers of the wallet API carry CORS headers (default *)", async () => {
  const node = await testNode({ args: ["--quota", "tokens"], features: standardFeatures() });
  try {
    for (const path of ["/v1/messages", "/v1/info", "/v1/tokens", "/v1/captcha"]) {
      const res = await node.fetch(preflight(path));
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get("access-control-allow-origin"), "*", path);
      assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
      assert.match(res.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
      assert.match(res.headers.get("access-control-allow-headers") ?? "", /Content-Type/i);
    }
    const info = await node.fetch(new Request(`${BASE}/v1/info`, { headers: { origin: ORIGIN } }));
    assert.equal(info.status, 200);
    assert.equal(info.headers.get("access-control-allow-origin"), "*");
    await info.body?.cancel();

    const dir = await node.fetch(
      new Request(`${BASE}/.well-known/private-token-issuer-directory`, {
        headers: { origin: ORIGIN },
      }),
    );
    assert.equal(dir.status, 200);
    assert.equal(dir.headers.get("access-control-allow-origin"), "*");
    await dir.body?.cancel();

    // An unpaid POST: 401 with the token challenge, which a browser wallet must be able to read.
    const unpaid = await node.fetch(
      postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(64) }, {
        origin: ORIGIN,
      }),
    );
    assert.equal(unpaid.status, 401);
    assert.equal(unpaid.headers.get("access-control-allow-origin"), "*");
    const exposed = (unpaid.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    assert.ok(exposed.includes("www-authenticate"), exposed);
    assert.ok(exposed.includes("retry-after"), exposed);
    assert.ok(unpaid.headers.get("www-authenticate")?.startsWith("PrivateToken"));
    await unpaid.body?.cancel();

    // An unknown /v1 path still answers the preflight and its 404 carries the header.
    const missing = await node.fetch(
      new Request(`${BASE}/v1/nothing`, { headers: { origin: ORIGIN } }),
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("access-control-allow-origin"), "*");
    await missing.body?.cancel();
  } finally {
    await node.close();
  }
});

Deno.test("cors: never on the console, /admin or /metrics", async () => {
  const node = await testNode({ args: ["--quota", "tokens"], features: standardFeatures() });
  try {
    for (const path of ["/console", "/console/login", "/admin/api/pricing", "/metrics"]) {
      const pre = await node.fetch(preflight(path, ORIGIN, "GET"));
      assert.equal(pre.headers.get("access-control-allow-origin"), null, path);
      assert.equal(pre.headers.get("access-control-allow-methods"), null, path);
      await pre.body?.cancel();
      const res = await node.fetch(new Request(BASE + path, { headers: { origin: ORIGIN } }));
      assert.equal(res.headers.get("access-control-allow-origin"), null, path);
      await res.body?.cancel();
    }
  } finally {
    await node.close();
  }
});

Deno.test("cors: --cors-origins lists origins; others get no CORS headers", async () => {
  const node = await testNode({
    args: ["--cors-origins", `${ORIGIN},http://localhost:3000`],
  });
  try {
    const ok = await node.fetch(preflight("/v1/messages"));
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(ok.headers.get("vary") ?? "", /Origin/);

    const res = await node.fetch(
      new Request(`${BASE}/v1/info`, { headers: { origin: "http://localhost:3000" } }),
    );
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:3000");
    assert.match(res.headers.get("vary") ?? "", /Origin/);
    await res.body?.cancel();

    const other = await node.fetch(preflight("/v1/messages", "https://evil.example"));
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
    const otherGet = await node.fetch(
      new Request(`${BASE}/v1/info`, { headers: { origin: "https://evil.example" } }),
    );
    assert.equal(otherGet.status, 200);
    assert.equal(otherGet.headers.get("access-control-allow-origin"), null);
    await otherGet.body?.cancel();
  } finally {
    await node.close();
  }
});

Deno.test("cors: an empty --cors-origins turns CORS off", async () => {
  const node = await testNode({ args: ["--cors-origins", ""] });
  try {
    const res = await node.fetch(preflight("/v1/messages"));
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    await res.body?.cancel();
  } finally {
    await node.close();
  }
});

Deno.test("cors: --cors-origins refuses values that are not origins", () => {
  assert.throws(
    () =>
      loadConfig({ args: ["--cors-origins", "wallet.example,https://a.example/path"], env: {} }),
    (e) =>
      e instanceof ConfigError && e.errors.length === 2 &&
      e.errors.every((l) => l.startsWith("cors-origins:")),
  );
});
