/**
 * The data folder against real node processes: one node per folder (the second names the folder
 * and the holder's pid), private file modes (SQLite's -wal/-shm included, loose ones tightened),
 * one clear line and a non-zero exit for every unusable file (the file left as it was), `admin`
 * refusing a folder that holds no node, and `deno task start` taking its port from the
 * environment.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { NODE_DENO_FLAGS, startNode, waitListening } from "./_node.ts";
import { loadConfig } from "../node/config.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = join(ROOT, "main.ts");

/** Runs `main.ts <args>` to its end; returns the exit code and stderr's non-empty lines. */
async function run(args: string[], timeoutMs = 30_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...NODE_DENO_FLAGS, MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const lines = new TextDecoder().decode(out.stderr).split("\n").filter((l) => l.trim() !== "");
  return { code: out.code, lines };
}

const serve = (dir: string) => run(["serve", "--data", dir, "--port", "0", "--quota", "open"]);

Deno.test({
  name:
    "data folder: a second node on the same folder exits non-zero naming it and the holder's pid",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const first = await startNode();
    try {
      const second = await serve(first.dataDir);
      assert.notEqual(second.code, 0);
      assert.equal(second.lines.length, 1, second.lines.join("\n"));
      assert.ok(second.lines[0]!.includes(first.dataDir), String(second.lines[0]));
      assert.ok(second.lines[0]!.includes(`pid ${first.process.pid}`), String(second.lines[0]));
      const res = await fetch(`${first.url}/healthz`);
      assert.equal(res.status, 200, "the first node is unharmed");
      await res.body?.cancel();
    } finally {
      await first.stop();
    }
    // Released when the holder ends.
    const again = await startNode({ dataDir: first.dataDir });
    await again.stop();
    await Deno.remove(first.dataDir, { recursive: true });
  },
});

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test({
  name: "data folder: files 0600 (SQLite -wal and -shm too), folders 0700, loose modes tightened",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const parent = await Deno.makeTempDir({ prefix: "subspace-modes-" });
    const dataDir = join(parent, "data");
    const node = await startNode({ dataDir });
    const post = await fetch(`${node.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag: "ab".repeat(20), payload: btoa("mode test") }),
    });
    assert.equal(post.status, 201);
    await post.body?.cancel();
    const names = [...Deno.readDirSync(dataDir)].map((e) => e.name).sort();
    for (const want of ["LOCK", "subspace.db", "subspace.db-wal", "subspace.db-shm"]) {
      assert.ok(names.includes(want), `${want} in ${names.join(", ")}`);
    }
    assert.equal(await mode(dataDir), 0o700);
    for (const name of names) {
      assert.equal((await mode(join(dataDir, name))).toString(8), "600", name);
    }
    await node.stop();

    await Deno.chmod(join(dataDir, "subspace.db"), 0o644);
    await Deno.chmod(dataDir, 0o755);
    const again = await startNode({ dataDir });
    await again.stop();
    assert.equal(await mode(dataDir), 0o700);
    assert.equal(await mode(join(dataDir, "subspace.db")), 0o600);
    const warned = again.logs.find((l) => l.includes("tightened file modes"));
    assert.ok(warned?.includes("subspace.db"), again.logs.join("\n"));
    await Deno.remove(parent, { recursive: true });
  },
});

/** A SQLite file whose header is right and whose first page is garbage. */
function malformedDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE t (a TEXT); CREATE INDEX t_a ON t (a);");
  const insert = db.prepare("INSERT INTO t VALUES (?)");
  for (let i = 0; i < 200; i++) insert.run("x".repeat(100) + i);
  db.close();
  const bytes = Deno.readFileSync(path);
  bytes.fill(0xff, 100, 4096);
  Deno.writeFileSync(path, bytes);
}

const GARBAGE = new TextEncoder().encode("this is not what the node wrote\n".repeat(8));
const CASES: { file: string; write: (path: string) => void; problem: RegExp }[] = [
  ...["subspace.db", "quota.db", "dht.db", "console.db", "fees.db"].map((file) => ({
    file,
    write: (p: string) => Deno.writeFileSync(p, GARBAGE),
    problem: /not a SQLite database/,
  })),
  { file: "subspace.db", write: malformedDatabase, problem: /damaged.*malformed/ },
  { file: "quota.db", write: malformedDatabase, problem: /damaged.*malformed/ },
  { file: "node.key", write: (p) => Deno.writeFileSync(p, GARBAGE), problem: /node key/ },
  {
    file: "issuer-keys.json",
    write: (p) => Deno.writeFileSync(p, GARBAGE),
    problem: /not valid JSON/,
  },
  {
    file: "issuer-keys.json",
    write: (p) =>
      Deno.writeTextFileSync(p, JSON.stringify({ version: 1, keys: [{ pkcs8: "AAAA" }] })),
    problem: /issuer key 0 cannot be read/,
  },
  { file: "dht.json", write: (p) => Deno.writeFileSync(p, GARBAGE), problem: /not a JSON object/ },
];

Deno.test({
  name: "data folder: each unusable file stops the node with one line naming it and the remedy",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // One at a time: parallel runtimes wait on each other's node_modules lock and say so on stderr.
    const results = [];
    for (const c of CASES) {
      results.push(
        await (async () => {
          const dataDir = await Deno.makeTempDir({ prefix: "subspace-corrupt-" });
          const path = join(dataDir, c.file);
          c.write(path);
          await Deno.chmod(path, 0o600);
          const before = await Deno.readFile(path);
          const r = await serve(dataDir);
          const after = await Deno.readFile(path);
          await Deno.remove(dataDir, { recursive: true });
          return {
            c,
            path,
            r,
            unchanged: before.length === after.length && before.every((b, i) => b === after[i]),
          };
        })(),
      );
    }
    for (const { c, path, r, unchanged } of results) {
      const what = `${c.file} (${c.problem})`;
      assert.equal(r.code, 1, `${what}: exit code; ${r.lines.join("\n")}`);
      assert.equal(r.lines.length, 1, `${what}: one line, got:\n${r.lines.join("\n")}`);
      const line = r.lines[0]!;
      assert.ok(line.includes(path), `${what}: names the file: ${line}`);
      assert.match(line, c.problem, what);
      assert.match(line, /restore it from a backup, or move it away/i, what);
      assert.doesNotMatch(line, /^\s+at |Uncaught/, what);
      assert.ok(unchanged, `${what}: the file is left as it was`);
    }
  },
});

Deno.test({
  name: "admin: a folder that holds no node is refused by name, and nothing is created there",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const parent = await Deno.makeTempDir({ prefix: "subspace-admin-" });
    const missing = join(parent, "mistyped");
    const r = await run(["admin", "logout-all", "--data", missing]);
    assert.notEqual(r.code, 0);
    assert.ok(r.lines.join("\n").includes(missing), r.lines.join("\n"));
    assert.match(r.lines.join("\n"), /not a Subspace data folder/);
    await assert.rejects(Deno.stat(missing), Deno.errors.NotFound);
    const empty = join(parent, "empty");
    await Deno.mkdir(empty);
    const r2 = await run(["admin", "logout-all", "--data", empty]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.lines.join("\n"), /holds no subspace\.db or node\.key/);
    assert.deepEqual([...Deno.readDirSync(empty)], []);
    await Deno.remove(parent, { recursive: true });
  },
});

Deno.test({
  name:
    "start task: schema defaults (./data, 8080), and SUBSPACE_PORT / SUBSPACE_DATA are honoured",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const defaults = loadConfig({ args: [], env: {} });
    assert.equal(defaults.data, "./data");
    assert.equal(defaults.port, 8080);
    const task = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks.start;
    assert.doesNotMatch(task, /--data|--port/);

    const dataDir = await Deno.makeTempDir({ prefix: "subspace-start-" });
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "start"],
      cwd: ROOT,
      env: {
        NO_COLOR: "1",
        SUBSPACE_PORT: String(port),
        SUBSPACE_DATA: dataDir,
        SUBSPACE_QUOTA: "open",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const logs: string[] = [];
    try {
      const url = await waitListening(child, logs);
      assert.equal(url, `http://127.0.0.1:${port}`);
      const res = await fetch(`${url}/healthz`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.ok((await Deno.stat(join(dataDir, "subspace.db"))).isFile, "data under SUBSPACE_DATA");
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
