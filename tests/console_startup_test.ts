/**
 * Start-up output of a real node process: `--log-format pretty` writes short readable lines,
 * the default on a pipe stays JSON, the one-time password is in one log line either way, and
 * the terminal banner's text (printed only when stderr is a terminal) names the console URL
 * and the password. A data folder a newer version migrated is refused with one clear line.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startupBanner } from "../node/console/mod.ts";
import { NODE_DENO_FLAGS } from "./_node.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs `serve` until its "listening" line, then stops it; returns stderr's lines. */
async function startupLines(args: string[]): Promise<string[]> {
  const data = await Deno.makeTempDir({ prefix: "subspace-startup-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [...NODE_DENO_FLAGS, MAIN, "serve", "--data", data, "--port", "0", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
      if (parts.some((l) => /listening/.test(l))) break;
    }
    child.kill("SIGTERM");
    await child.status;
    return lines;
  } finally {
    clearTimeout(timer);
    await Deno.remove(data, { recursive: true }).catch(() => {});
  }
}

Deno.test("--log-format pretty: readable lines; the default on a pipe is JSON", async () => {
  const pretty = await startupLines(["--log-format", "pretty", "--quota", "open"]);
  const listening = pretty.find((l) => l.includes("listening"));
  assert.match(
    listening ?? "",
    /^\d\d:\d\d:\d\d INFO {2}node: listening url=http:\/\/127\.0\.0\.1:\d+/,
  );
  assert.ok(pretty.every((l) => !l.startsWith("{")), pretty.join("\n"));
  assert.equal(pretty.filter((l) => /password=\S+/.test(l)).length, 1, "password logged once");

  const json = await startupLines(["--quota", "open"]);
  const rec = json.map((l) => JSON.parse(l));
  assert.ok(rec.some((r) => r.msg === "listening"));
  assert.equal(rec.filter((r) => typeof r.password === "string").length, 1);
  assert.ok(!json.some((l) => l.includes("One-time password")), "no banner on a pipe");
});

Deno.test("the terminal banner names the login URL and the password", () => {
  const text = startupBanner("https://node.example", "abcd-efgh");
  assert.match(text, /console: https:\/\/node\.example\/console\/login\n/);
  assert.match(text, /One-time password: +abcd-efgh\n/);
  assert.ok(text.split("\n").length < 8, "short");
});

Deno.test("a database migrated by a newer version is refused with a clear message", async () => {
  const data = await Deno.makeTempDir({ prefix: "subspace-downgrade-" });
  try {
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: [...NODE_DENO_FLAGS, MAIN, "serve", "--data", data, "--port", "0", "--quota", "open"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      });
    // A first start creates the databases; stop it once it listens.
    const first = run().spawn();
    for await (const chunk of first.stderr.pipeThrough(new TextDecoderStream())) {
      if (chunk.includes('"msg":"listening"')) break;
    }
    first.kill("SIGTERM");
    await first.status;
    // What a newer version would leave: a migration this one does not know.
    const db = new DatabaseSync(`${data}/subspace.db`);
    db.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)")
      .run("9999_from_a_newer_version", new Date().toISOString());
    db.close();
    const out = await run().output();
    assert.equal(out.code, 1);
    const err = new TextDecoder().decode(out.stderr);
    assert.match(
      err,
      /refusing to start: the database.* was upgraded by a newer Subspace \(its migration 9999_from_a_newer_version is unknown to version [\d.]+\)\. Downgrades are not supported/,
    );
    assert.doesNotMatch(err, /at .*\.ts:\d+/, "no stack trace");
  } finally {
    await Deno.remove(data, { recursive: true }).catch(() => {});
  }
});

Deno.test("a bad --bootstrap refuses to start, listed with the other errors", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...NODE_DENO_FLAGS,
      MAIN,
      "serve",
      "--bootstrap",
      "127.0.0.1:18080",
      "--public-url",
      "node.example",
      "--port",
      "x",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr);
  assert.match(err, /refusing to start, invalid configuration/);
  assert.match(
    err,
    /--bootstrap: expected an http:\/\/ or https:\/\/ URL, got '127\.0\.0\.1:18080'/,
  );
  assert.match(err, /--public-url: expected an http:\/\/ or https:\/\/ URL/);
  assert.match(err, /--port: expected an integer/);
});

Deno.test("an unreachable bootstrap peer is logged with the reason and retried", async () => {
  const data = await Deno.makeTempDir({ prefix: "subspace-bootstrap-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...NODE_DENO_FLAGS,
      MAIN,
      "serve",
      "--data",
      data,
      "--port",
      "0",
      "--quota",
      "open",
      "--dht-private-peers",
      "true",
      // Nothing listens on port 9 of loopback: connections are refused at once.
      "--bootstrap",
      "http://127.0.0.1:9",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const retries: Record<string, unknown>[] = [];
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const l of parts) {
        const rec = JSON.parse(l);
        if (rec.msg === "no bootstrap peer answers; retrying") retries.push(rec);
      }
      if (retries.length >= 2) break;
    }
  } finally {
    clearTimeout(timer);
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(data, { recursive: true }).catch(() => {});
  }
  assert.equal(retries.length, 2, "two attempts logged");
  const [first, second] = retries as [Record<string, unknown>, Record<string, unknown>];
  assert.equal(first.level, "warn");
  assert.deepEqual(
    (first.peers as { url: string }[]).map((p) => p.url),
    ["http://127.0.0.1:9"],
  );
  assert.ok((first.peers as { reason: string }[])[0]!.reason, "the reason is given");
  assert.equal(first.attempt, 1);
  assert.equal(second.attempt, 2);
  assert.ok((second.retry_in_s as number) > (first.retry_in_s as number), "backing off");
});

/** Runs `serve` until a log line matches `until`; returns the JSON records seen. */
async function logsUntil(args: string[], until: (rec: Record<string, unknown>) => boolean) {
  const data = await Deno.makeTempDir({ prefix: "subspace-selfcheck-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [...NODE_DENO_FLAGS, MAIN, "serve", "--data", data, "--quota", "open", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const recs: Record<string, unknown>[] = [];
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      recs.push(...parts.map((l) => JSON.parse(l)));
      if (recs.some(until)) break;
    }
  } finally {
    clearTimeout(timer);
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(data, { recursive: true }).catch(() => {});
  }
  return recs;
}

Deno.test("the node checks that it answers at its --public-url and says so", async () => {
  const wrong = await logsUntil(
    ["--port", "0", "--public-url", "http://127.0.0.1:9"],
    (r) => String(r.msg).includes("public URL"),
  );
  const bad = wrong.find((r) => r.msg === "this node is not reachable at its public URL");
  assert.ok(bad, "a wrong --public-url is reported");
  assert.equal(bad.level, "warn");
  assert.ok(bad.reason, "with the reason");

  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const right = await logsUntil(
    ["--port", String(port), "--public-url", `http://127.0.0.1:${port}`],
    (r) => String(r.msg).includes("public URL"),
  );
  assert.ok(right.some((r) => r.msg === "this node answers at its public URL"));
});
