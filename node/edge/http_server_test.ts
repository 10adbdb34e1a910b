import assert from "node:assert/strict";
import { createLogger } from "../log.ts";
import { readFdLimits, serve, type ServeOptions } from "./http_server.ts";

const lines: string[] = [];
const log = createLogger({ component: "edge", level: "debug", sink: (l) => lines.push(l) });
const base: ServeOptions = {
  hostname: "127.0.0.1",
  port: 0,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 10_000,
  maxConnectionsPerAddress: 1000,
  maxOpenConnections: 1000,
  log,
};
const ok = async (req: Request) => {
  await req.arrayBuffer();
  return new Response("ok");
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with how long the server took to close `c` (or rejects after `limitMs`). */
async function closedWithin(c: Deno.Conn, limitMs: number): Promise<number> {
  const started = performance.now();
  const buf = new Uint8Array(1024);
  const timer = setTimeout(() => c.close(), limitMs);
  try {
    while ((await c.read(buf)) !== null) { /* drain */ }
  } catch {
    throw new Error(`the server did not close the connection within ${limitMs} ms`);
  } finally {
    clearTimeout(timer);
  }
  try {
    c.close();
  } catch { /* closed */ }
  return performance.now() - started;
}

Deno.test({
  name: "edge: connections over the per-address cap are closed at accept",
  sanitizeResources: false,
  async fn() {
    const server = await serve(ok, { ...base, maxConnectionsPerAddress: 3 });
    const conns = await Promise.all(
      Array.from({ length: 10 }, () => Deno.connect({ hostname: "127.0.0.1", port: server.port })),
    );
    await sleep(200);
    assert.equal(server.stats.open, 3);
    assert.equal(server.stats.refusedPerAddress, 7);
    for (const c of conns) c.close();
    await sleep(100);
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await res.text(), "ok");
    await server.shutdown();
  },
});

Deno.test({
  name: "edge: silent, half-sent and idle keep-alive connections are closed at their deadlines",
  sanitizeResources: false,
  async fn() {
    const server = await serve(ok, { ...base, headersTimeoutMs: 300, keepAliveTimeoutMs: 500 });
    const connect = () => Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const silent = await connect();
    const half = await connect();
    await half.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n"));
    const idle = await connect();
    await idle.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const [a, b, c] = await Promise.all([
      closedWithin(silent, 3000),
      closedWithin(half, 3000),
      closedWithin(idle, 3000),
    ]);
    assert.ok(a >= 250 && b >= 250, `header deadline: ${a}, ${b} ms`);
    assert.ok(c >= 450, `keep-alive deadline: ${c} ms`);
    assert.equal(server.stats.headerTimeouts, 2);
    assert.equal(server.stats.idleTimeouts, 1);
    assert.equal(server.stats.open, 0);
    await server.shutdown();
  },
});

Deno.test({
  name: "edge: a long request is not cut by the keep-alive deadline",
  sanitizeResources: false,
  async fn() {
    const server = await serve(async () => {
      await sleep(700);
      return new Response("late");
    }, { ...base, headersTimeoutMs: 200, keepAliveTimeoutMs: 200 });
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await res.text(), "late");
    await server.shutdown();
  },
});

const SCRIPT = `
import { serve } from ${JSON.stringify(new URL("./http_server.ts", import.meta.url).href)};
const log = { debug() {}, info() {}, error() {}, child() { return log; },
  warn(msg, f) { console.error(JSON.stringify({ msg, ...f })); } };
const server = await serve(() => new Response("ok"), {
  hostname: "127.0.0.1", port: 0, headersTimeoutMs: 1500, keepAliveTimeoutMs: 1500,
  maxConnectionsPerAddress: 100000, maxOpenConnections: 100000, reservedFds: -100000, log,
});
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
console.log(server.port);
setInterval(() => console.error(JSON.stringify({ stats: server.stats })), 500);
`;

Deno.test({
  name: "edge: out of file descriptors, the accept loop backs off and recovers (ulimit -n 64)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, SCRIPT);
    const child = new Deno.Command("bash", {
      args: ["-c", `ulimit -n 64 && exec '${Deno.execPath()}' run -A '${file}'`],
      // The runtime's own background work (the update check loads CA certificates) must not
      // be what runs out of descriptors here.
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errLines: string[] = [];
    (async () => {
      for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) errLines.push(t);
    })().catch(() => {});
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number((await reader.read()).value!.trim());
    const conns: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 150; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      await sleep(500);
      assert.match(errLines.join(""), /accepting a connection failed; backing off/);
      // The flood's connections time out; a newcomer is then served by the same process.
      await sleep(3500);
      const status = await Promise.race([child.status, sleep(10)]);
      assert.equal(status, undefined, `the server exited:\n${errLines.join("").slice(-2000)}`);
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      assert.equal(await res.text(), "ok");
      assert.equal(await Promise.race([child.status.then(() => "exited"), sleep(10)]), undefined);
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await reader.cancel().catch(() => {});
      await Deno.remove(file);
    }
  },
});

Deno.test({
  name: "edge: HTTPS (HTTP/1.1 and h2); shutdown as clients hang up raises no uncaught error",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const made = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
      ]
        .concat(["-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`]),
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    if (!made?.success) {
      console.warn("skipped: openssl cannot make a test certificate");
      return;
    }
    const cert = await Deno.readTextFile(`${dir}/c.pem`);
    const server = await serve(ok, { ...base, cert, key: await Deno.readTextFile(`${dir}/k.pem`) });
    for (const version of ["--http1.1", "--http2"]) {
      const out = await new Deno.Command("curl", {
        args: ["-s", version, "--cacert", `${dir}/c.pem`, "-w", " %{http_version}"]
          .concat([`https://localhost:${server.port}/`]),
        stdout: "piped",
      }).output();
      const [body, got] = new TextDecoder().decode(out.stdout).split(" ");
      assert.equal(body, "ok", version);
      assert.equal(got, version === "--http2" ? "2" : "1.1");
    }
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("edge: the descriptor limit is read", async () => {
  const limits = await readFdLimits();
  assert.ok(limits !== undefined && limits.soft > 0 && limits.hard >= limits.soft);
});
