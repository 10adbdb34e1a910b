/**
 * Long-poll wake-up on one node: a wallet waits on `GET /v1/messages?wait=30` for a 32-bit
 * prefix, another client POSTs a matching message, and we time from sending the POST until the
 * poll's answer arrives — against the POST's own acknowledgement time in the same iteration
 * (the baseline: the wake-up can't come before the commit). Real node process, loopback.
 * Run: `deno run -A bench/longpoll.ts [iterations]`.
 *
 * @module
 */
import { benchNode, f2, quantile } from "./_util.ts";

const iterations = Number(Deno.args[0] ?? 500);
const node = await benchNode();
const wake: number[] = [];
const ack: number[] = [];
const afterAck: number[] = [];
for (let i = 0; i < iterations; i++) {
  const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
  const poll = fetch(`${node.url}/v1/messages?prefix=${tag.slice(0, 8)}&bits=32&wait=30`);
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  const posted = fetch(`${node.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: "AAAA" }),
  }).then(async (r) => {
    await r.arrayBuffer();
    return performance.now();
  });
  const res = await poll;
  const woke = performance.now();
  const body = await res.json();
  if (body.messages[0]?.tag !== tag) throw new Error("poll returned the wrong message");
  const acked = await posted;
  wake.push(woke - t0);
  ack.push(acked - t0);
  afterAck.push(woke - acked);
}
await node.stop();
await Deno.remove(node.dataDir, { recursive: true });
const row = (name: string, xs: number[]) =>
  `| ${name} | ${f2(quantile(xs, 0.5))} | ${f2(quantile(xs, 0.99))} |`;
console.log(`| ${iterations} iterations | p50 ms | p99 ms |`);
console.log(`| --- | --- | --- |`);
console.log(row("POST sent → POST acknowledged (baseline)", ack));
console.log(row("POST sent → long poll answered", wake));
console.log(row("long poll answered − POST acknowledged", afterAck));
