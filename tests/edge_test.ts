/**
 * The edge against a real node process whose descriptor limit is lowered (`ulimit -n 256` in
 * the spawning shell): thousands of idle and slowloris connections from one address, while
 * another address (127.0.0.2, through curl) gets `/healthz` and POSTs answered throughout; the
 * node stays up and its descriptor count returns to where it was once the deadlines pass. Then
 * slow and abandoned request bodies: 408 and a cut connection for the first, for the second no
 * error-level log line and no 5xx, each under its own metric.
 */
import assert from "node:assert/strict";
import { NODE_DENO_FLAGS, waitListening } from "./_node.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ADMIN_TOKEN = "edge-test-admin-token";

interface LimitedNode {
  url: string;
  port: number;
  pid: number;
  logs: string[];
  child: Deno.ChildProcess;
  dataDir: string;
  stop(): Promise<void>;
}

/** Spawns `main.ts serve` under `ulimit -n <fdLimit>` (soft and hard) and waits for it to listen. */
async function startLimitedNode(fdLimit: number, args: string[]): Promise<LimitedNode> {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-edge-" });
  const cmd = [
    Deno.execPath(),
    ...NODE_DENO_FLAGS,
    "--allow-run=prlimit",
    MAIN,
    "serve",
    "--data",
    dataDir,
    "--port",
    "0",
  ]
    .concat(["--quota", "open", "--admin-token", ADMIN_TOKEN], args)
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const child = new Deno.Command("bash", {
    args: ["-c", `ulimit -n ${fdLimit} && exec ${cmd}`],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  const url = await waitListening(child, logs);
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid,
    logs,
    child,
    dataDir,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

// Read through a child process: Deno refuses /proc/<pid> without --allow-all.
const fdCount = (pid: number) => {
  const out = new Deno.Command("sh", { args: ["-c", `ls /proc/${pid}/fd | wc -l`] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim());
};

/** One request through curl from source address 127.0.0.2; returns the status (0: failed). */
async function curl(url: string, opts: { post?: string } = {}): Promise<number> {
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", "127.0.0.2"];
  args.push("--max-time", "3");
  if (opts.post !== undefined) {
    args.push("-H", "content-type: application/json", "--data-binary", opts.post);
  }
  const out = await new Deno.Command("curl", { args: [...args, url], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout)) || 0;
}

async function metric(url: string, name: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (i: number) =>
  JSON.stringify({ tag: i.toString(16).padStart(40, "0"), payload: btoa(`edge ${i}`) });

Deno.test({
  name:
    "edge: 3,000 idle and slowloris connections under ulimit -n 256; health and POSTs answered; fds return to baseline",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await startLimitedNode(256, [
      "--headers-timeout",
      "2",
      "--keep-alive-timeout",
      "2",
      "--max-address-connections",
      "100",
    ]);
    const attackers: Deno.Conn[] = [];
    try {
      assert.equal(await curl(`${node.url}/healthz`), 200);
      await sleep(2500); // The probe's keep-alive connection closes.
      const baseline = fdCount(node.pid);
      const limits = node.logs.find((l) => l.includes("file descriptor limit"));
      assert.ok(limits?.includes('"soft":256'), String(limits));

      let stop = false;
      const served: number[] = [];
      const prober = (async () => {
        for (let i = 0; !stop; i++) {
          served.push(await curl(`${node.url}/healthz`));
          served.push(await curl(`${node.url}/v1/messages`, { post: message(i) }));
          await sleep(100);
        }
      })();

      // 3,000 connections: half send nothing, half trickle an endless header block.
      let refused = 0;
      for (let batch = 0; batch < 30; batch++) {
        const opened = await Promise.all(
          Array.from(
            { length: 100 },
            () =>
              Deno.connect({ hostname: "127.0.0.1", port: node.port }).catch(() => {
                refused++;
                return undefined;
              }),
          ),
        );
        for (const [i, c] of opened.entries()) {
          if (c === undefined) continue;
          attackers.push(c);
          if (i % 2 === 0) {
            c.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\n")).catch(() => {});
          }
        }
      }
      const trickle = setInterval(() => {
        for (const [i, c] of attackers.entries()) {
          if (i % 2 === 0) c.write(encoder.encode("X-Slow: 1\r\n")).catch(() => {});
        }
      }, 300);
      await sleep(3000);
      stop = true;
      await prober;
      clearInterval(trickle);

      assert.equal(node.child.pid, node.pid);
      assert.ok(served.length >= 10, `only ${served.length} probes ran`);
      const failed = served.filter((s) => s !== 200 && s !== 201);
      assert.deepEqual(failed, [], `probes failed: ${served.join(",")}`);
      assert.equal(await curl(`${node.url}/healthz`), 200, "the node is up after the flood");
      assert.ok(attackers.length + refused >= 3000);

      // The attackers keep their sockets open: only the node's deadlines can free them.
      await sleep(3500);
      const after = fdCount(node.pid);
      assert.ok(after <= baseline + 3, `fds: baseline ${baseline}, after the deadlines ${after}`);
      assert.ok(await metric(node.url, "subspace_edge_header_timeouts_total") > 0);
      assert.ok(await metric(node.url, "subspace_edge_connections_refused_total") > 1000);
      assert.ok(!node.logs.some((l) => l.includes('"level":"error"')), node.logs.join("\n"));
    } finally {
      for (const c of attackers) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await node.stop();
    }
  },
});

/** Reads everything the server sends until it closes the connection (or `timeoutMs`). */
async function readUntilClosed(c: Deno.Conn, timeoutMs: number): Promise<string | undefined> {
  const buf = new Uint8Array(4096);
  let got = "";
  const deadline = setTimeout(() => c.close(), timeoutMs);
  try {
    for (;;) {
      const n = await c.read(buf);
      if (n === null) return got;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    return undefined; // Our own deadline closed it: the server never did.
  } finally {
    clearTimeout(deadline);
  }
}

Deno.test({
  name: "edge: a slow body gets 408 and its connection closed; an abandoned upload is no error",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await startLimitedNode(1024, ["--body-timeout", "1"]);
    try {
      const head = (len: number) =>
        `POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
      await slow.write(encoder.encode(head(200) + '{"tag":'));
      const started = Date.now();
      const answer = await readUntilClosed(slow, 5000);
      assert.ok(answer !== undefined, "the server closed the slow connection");
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - started < 4000);

      for (let i = 0; i < 3; i++) {
        const gone = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
        await gone.write(encoder.encode(head(200) + '{"tag":"00'));
        await sleep(100);
        gone.close();
      }
      await sleep(300);
      assert.equal(
        await metric(node.url, 'subspace_http_incomplete_bodies_total{reason="timeout"}'),
        1,
      );
      assert.equal(
        await metric(node.url, 'subspace_http_incomplete_bodies_total{reason="aborted"}'),
        3,
      );
      const text = await (await fetch(`${node.url}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })).text();
      assert.doesNotMatch(text, /subspace_http_requests_total\{code="5\d\d"\}/);
      const errors = node.logs.filter((l) => l.includes('"level":"error"'));
      assert.deepEqual(errors, []);
    } finally {
      await node.stop();
    }
  },
});
