/**
 * `GET /metrics` of a real node (every plugin installed): the Prometheus text format parses,
 * names follow the conventions, and every metric is documented in docs/observability.md.
 */
import assert from "node:assert/strict";
import { startNode } from "./_node.ts";

const TOKEN = "metrics-test-admin-token";

Deno.test("/metrics: valid exposition, conventional names, all documented", async () => {
  const node = await startNode({ env: { SUBSPACE_ADMIN_TOKEN: TOKEN } });
  try {
    const post = await fetch(`${node.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag: "ab".repeat(20), payload: "aGVsbG8=" }),
    });
    await post.body?.cancel();
    const res = await fetch(`${node.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const types = new Map<string, string>();
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (t) {
        types.set(t[1]!, t[2]!);
        continue;
      }
      if (line.startsWith("# HELP ")) continue;
      assert.match(
        line,
        /^[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+Inf-]+$/,
        `bad sample line: ${line}`,
      );
      const name = line.split(/[{ ]/)[0]!;
      const base = name.replace(/_(bucket|sum|count)$/, "");
      assert.ok(types.has(name) || types.has(base), `sample before its # TYPE: ${line}`);
    }
    assert.ok(types.size >= 20, `only ${types.size} metrics`);
    const docs = await Deno.readTextFile(new URL("../docs/observability.md", import.meta.url));
    const undocumented = [...types.keys()].filter((n) => !docs.includes("`" + n + "`"));
    assert.deepEqual(undocumented, [], "add these to docs/observability.md");
    for (const [name, type] of types) {
      assert.ok(name.startsWith("subspace_"), name);
      if (type === "counter") assert.match(name, /_total$/, `counter ${name} must end in _total`);
      if (type === "histogram") {
        assert.match(name, /_(seconds|bytes)$/, `histogram ${name} needs a unit`);
      }
      if (name.endsWith("_total")) assert.equal(type, "counter", `${name} ends in _total`);
    }
    assert.match(text, /^subspace_messages_accepted_total 1$/m);
    assert.match(text, /^subspace_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
  } finally {
    await node.stop();
    await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
  }
});
