/**
 * Prefix-query benchmark on a store of 1,000,000 messages: `GET /v1/messages?bits=16` through
 * the node's HTTP handler, against the bare store query it wraps and a `GET /healthz` baseline,
 * in the same process. The populated database is cached in /tmp between runs.
 * Run: `deno run -A bench/query.ts [messages] [queries]`.
 *
 * @module
 */
import { loadConfig } from "../node/config.ts";
import { createLogger } from "../node/log.ts";
import { startNode } from "../node/mod.ts";
import { parseRange } from "../node/wire.ts";
import { BENCH_ARGS, f2, quantile } from "./_util.ts";

const total = Number(Deno.args[0] ?? 1_000_000);
const queries = Number(Deno.args[1] ?? 2000);
const dataDir = `/tmp/subspace-bench-query-${total}`;

const config = loadConfig({ args: ["--data", dataDir, ...BENCH_ARGS], env: {} });
const node = await startNode(config, {
  listen: false,
  log: createLogger({ component: "bench", level: "error" }),
});
const have = await node.core.store.count();
if (have < total) {
  console.error(`populating ${total - have} messages into ${dataDir} ...`);
  const t0 = performance.now();
  const payload = new Uint8Array(256);
  const now = Date.now();
  for (let done = have; done < total;) {
    const n = Math.min(5000, total - done);
    const batch = Array.from({ length: n }, () => {
      const tag = crypto.getRandomValues(new Uint8Array(20));
      const id = crypto.getRandomValues(new Uint8Array(32));
      return {
        id,
        tag,
        payload,
        size: 256,
        receivedAt: now,
        expiresAt: now + 86400e3 * 28,
        origin: null,
      };
    });
    await node.core.store.insertBatch(batch);
    done += n;
  }
  console.error(`populated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const prefixes = Array.from(
  { length: queries },
  () => crypto.getRandomValues(new Uint8Array(2)).toHex(),
);
async function time(fn: (prefix: string) => Promise<unknown>): Promise<number[]> {
  for (const p of prefixes.slice(0, 100)) await fn(p); // warm up
  const out: number[] = [];
  for (const p of prefixes) {
    const t0 = performance.now();
    await fn(p);
    out.push(performance.now() - t0);
  }
  return out;
}

const health = await time(async () => {
  await (await node.fetch(new Request("http://b/healthz"))).arrayBuffer();
});
let returned = 0;
const http = await time(async (p) => {
  const body = await (await node.fetch(new Request(`http://b/v1/messages?prefix=${p}&bits=16`)))
    .json();
  returned += body.messages.length;
});
const storeOnly = await time(async (p) => {
  const r = parseRange(p, "16");
  await node.core.store.query({
    lo: r.lo,
    hi: r.hi,
    all: false,
    afterSeq: 0,
    limit: 100,
    now: Date.now(),
  });
});
await node.close();

const row = (name: string, xs: number[]) =>
  `| ${name} | ${f2(quantile(xs, 0.5))} | ${f2(quantile(xs, 0.99))} | ${f2(quantile(xs, 1))} |`;
console.log(
  `| ${
    total.toLocaleString("en")
  } messages, ${queries} random 16-bit prefixes | p50 ms | p99 ms | max ms |`,
);
console.log(`| --- | --- | --- | --- |`);
console.log(row("GET /healthz (baseline, in-process handler)", health));
console.log(row("GET /v1/messages?bits=16 (in-process handler)", http));
console.log(row("store query alone", storeOnly));
console.log(
  `\nmean messages per answer: ${f2(returned / queries)}; p99 ratio query / healthz: ${
    f2(quantile(http, 0.99) / quantile(health, 0.99))
  }`,
);
