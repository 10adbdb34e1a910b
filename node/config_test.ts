import assert from "node:assert/strict";
import {
  ConfigError,
  configMarkdown,
  configSources,
  envName,
  flagName,
  loadConfig,
  parseBytes,
  parseDuration,
  redactedConfig,
} from "./config.ts";

Deno.test("defaults match the documented ones", () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.port, 8080);
  assert.equal(c.quota, "tokens");
  assert.equal(c.maxPayloadBytes, 65536);
  assert.equal(c.defaultTtl, 7 * 86400);
  assert.equal(c.maxTtl, 28 * 86400);
  assert.equal(c.store, undefined);
});

Deno.test("precedence: defaults < file < env < flags", () => {
  const file = JSON.stringify({ port: 1000, "max-payload-bytes": "1KiB", host: "127.0.0.2" });
  const c = loadConfig({
    args: ["--config", "/x.json", "--port=3000"],
    env: { SUBSPACE_PORT: "2000", SUBSPACE_DEFAULT_TTL: "1h" },
    readFile: () => file,
  });
  assert.equal(c.port, 3000);
  assert.equal(c.maxPayloadBytes, 1024);
  assert.equal(c.host, "127.0.0.2");
  assert.equal(c.defaultTtl, 3600);
});

Deno.test("every invalid value is listed at once", () => {
  try {
    loadConfig({
      args: ["--port", "70000", "--quota", "free", "--bogus", "1", "--max-ttl", "soon"],
      env: { SUBSPACE_MAX_STORE_BYTES: "lots" },
    });
    assert.fail("expected ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.errors.length, 5, err.errors.join("\n"));
    assert.match(err.message, /--port: must be at most 65535/);
    assert.match(err.message, /--quota: expected one of open, tokens/);
    assert.match(err.message, /--bogus: unknown flag/);
    assert.match(err.message, /--max-ttl: expected a duration/);
    assert.match(err.message, /SUBSPACE_MAX_STORE_BYTES: expected a size/);
  }
});

Deno.test("cross-field checks", () => {
  assert.throws(
    () => loadConfig({ args: ["--default-ttl", "30d"], env: {} }),
    /must not exceed max-ttl/,
  );
  assert.throws(() => loadConfig({ args: ["--tls-cert", "a.pem"], env: {} }), /together/);
  assert.throws(() => loadConfig({ args: ["--store", "mysql://x"], env: {} }), /postgres:\/\//);
});

Deno.test("units and names", () => {
  assert.equal(parseBytes("64KiB"), 65536);
  assert.equal(parseBytes("10GB"), 1e10);
  assert.equal(parseDuration("7d"), 604800);
  assert.equal(parseDuration("90"), 90);
  assert.throws(() => parseBytes("-1"), RangeError);
  assert.equal(flagName("maxPayloadBytes"), "max-payload-bytes");
  assert.equal(envName("maxPayloadBytes"), "SUBSPACE_MAX_PAYLOAD_BYTES");
});

Deno.test("secrets are redacted for display", () => {
  const c = loadConfig({ args: ["--store", "postgres://u:hunter2@h/db"], env: {} });
  assert.equal(redactedConfig(c).store, "(redacted)");
  assert.ok(!JSON.stringify(redactedConfig(c)).includes("hunter2"));
});

Deno.test("docs/config.md is generated from the schema and up to date", async () => {
  const onDisk = await Deno.readTextFile(new URL("../docs/config.md", import.meta.url));
  assert.equal(onDisk, configMarkdown(), "run `deno task docs` to regenerate docs/config.md");
});

Deno.test("URL keys are checked at start, every error listed at once", () => {
  let err: unknown;
  try {
    loadConfig({
      args: [
        "--bootstrap",
        "http://127.0.0.1:18081,127.0.0.1:18080",
        "--public-url",
        "https://node.example/path",
        "--esplora-url",
        "blockstream.info/api",
        "--port",
        "x",
      ],
      env: {},
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const text = err.errors.join("\n");
  assert.match(
    text,
    /--bootstrap: expected an http:\/\/ or https:\/\/ URL, got '127\.0\.0\.1:18080' \(did you mean http:\/\/127\.0\.0\.1:18080\?\)/,
  );
  assert.match(text, /--public-url: expected a bare origin/);
  assert.match(text, /--esplora-url: expected an http:\/\/ or https:\/\/ URL/);
  assert.match(text, /--port: expected an integer/);
  assert.equal(err.errors.length, 4);
  // Good values pass.
  const ok = loadConfig({
    args: [
      "--bootstrap",
      "http://127.0.0.1:18081/, https://b.example",
      "--public-url",
      "https://n.example",
    ],
    env: {},
  });
  assert.deepEqual(ok.bootstrap, ["http://127.0.0.1:18081/", "https://b.example"]);
});

Deno.test("configSources tells where each value came from", () => {
  const cfg = loadConfig({
    args: ["--port", "0", "--config", "c.json"],
    env: { SUBSPACE_MAX_TTL: "14d" },
    readFile: () => JSON.stringify({ "free-tokens": 5 }),
  });
  assert.equal(configSources(cfg).port, "flag");
  assert.equal(configSources(cfg).maxTtl, "env");
  assert.equal(configSources(cfg).freeTokens, "file");
  assert.equal(configSources(cfg).host, "default");
});
