/**
 * Twelve real node processes on 127.0.0.1 with `--notice-replicas 3`: notices are stored where
 * the keyspace says (about 3/12 of them per server, not all), a wallet's long poll at any server
 * gets new messages of its prefix pushed, and a first query at a server that never followed the
 * prefix returns every earlier message in it.
 */
import assert from "node:assert/strict";
import { type NodeProcess, SHARED_ADDRESS_ARGS, startNode } from "./_node.ts";

const NODES = 12;
const MESSAGES = 1200;
// Twelve servers and the test share 127.0.0.1: the per-address limits are lifted.
const ARGS = [
  "--notice-replicas",
  "3",
  "--dht-range-limits",
  "false",
  ...SHARED_ADDRESS_ARGS,
  "--max-address-connections",
  "4096",
];

function randomTag(prefix = ""): string {
  const hex = Array.from(
    crypto.getRandomValues(new Uint8Array(20)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return prefix + hex.slice(prefix.length);
}

async function post(node: NodeProcess, tag: string, text: string): Promise<string> {
  const res = await fetch(`${node.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: btoa(text) }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

async function info(node: NodeProcess) {
  return (await (await fetch(`${node.url}/v1/info`)).json()).federation;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test({
  name: "12 servers: notices stored where the keyspace says, pushed to followers, backlog complete",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const nodes: NodeProcess[] = [];
    try {
      nodes.push(await startNode({ args: ARGS }));
      const rest = await Promise.all(
        Array.from(
          { length: NODES - 1 },
          () => startNode({ args: [...ARGS, "--bootstrap", nodes[0]!.url] }),
        ),
      );
      nodes.push(...rest);
      await until("every server knows the others", async () => {
        const all = await Promise.all(nodes.map(info));
        return all.every((f) => f.contacts >= NODES - 1) ? true : undefined;
      }, 60_000);

      // 1,200 messages at random servers under random tags; 12 of them under prefix "5c".
      const early: string[] = [];
      for (let i = 0; i < MESSAGES; i += 50) {
        await Promise.all(Array.from({ length: 50 }, async (_, j) => {
          const n = nodes[Math.floor(Math.random() * NODES)]!;
          const id = await post(n, randomTag((i + j) % 100 === 0 ? "5c" : ""), `m${i + j}`);
          if ((i + j) % 100 === 0) early.push(id);
        }));
      }
      const counts = await until("notices to settle", async () => {
        const c = (await Promise.all(nodes.map(info))).map((f) => f.notices_accepted as number);
        const sum = c.reduce((a, b) => a + b, 0);
        // Each message is stored at the 3 closest servers; the origin holds its own.
        return sum >= MESSAGES * 3 * 0.85 ? c : undefined;
      });
      // Placement has settled once no server's count moves for a second (a loaded machine
      // places the last notices late; the backlog check below needs them placed).
      let settled = counts;
      await until("placement to settle", async () => {
        await new Promise((r) => setTimeout(r, 1000));
        const now = (await Promise.all(nodes.map(info))).map((f) => f.notices_accepted as number);
        const still = now.every((n, i) => n === settled[i]);
        settled = now;
        return still ? true : undefined;
      }, 60_000);
      const mean = settled.reduce((a, b) => a + b, 0) / NODES;
      console.log(
        `notices per server: mean ${mean.toFixed(0)}, max ${Math.max(...settled)}`,
        settled,
      );
      assert.ok(counts.length === NODES);
      assert.ok(mean <= 350, `mean ${mean}`);
      assert.ok(Math.max(...settled) <= 700, `max ${Math.max(...settled)}`);

      // A first query at a server that never followed "5c" returns every earlier message.
      const reader = nodes[5]!;
      const asked = performance.now();
      const res = await fetch(`${reader.url}/v1/messages?prefix=5c&bits=8&limit=1000`);
      assert.equal(res.status, 200);
      const got = new Set(((await res.json()).messages as { id: string }[]).map((m) => m.id));
      console.log(
        `first query: ${got.size} messages in ${(performance.now() - asked).toFixed(0)} ms`,
      );
      for (const id of early) assert.ok(got.has(id), `backlog message ${id} missing`);
      assert.equal(early.length, 12);

      // A long poll at that server gets a new message of the prefix posted elsewhere.
      const cursorRes = await fetch(`${reader.url}/v1/messages?prefix=5c&bits=8&limit=1000`);
      const cursor = (await cursorRes.json()).cursor;
      const poll = fetch(`${reader.url}/v1/messages?prefix=5c&bits=8&wait=20&after=${cursor}`);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      const id = await post(nodes[9]!, randomTag("5c"), "late");
      const polled = await (await poll).json();
      const ms = performance.now() - t0;
      console.log(`long poll woke ${ms.toFixed(0)} ms after the POST at another server`);
      assert.deepEqual(polled.messages.map((m: { id: string }) => m.id), [id]);

      // An operator's shortest followed prefix: a wallet asking with fewer bits gets a problem.
      const picky = await startNode({
        args: [...ARGS, "--follow-min-bits", "8", "--bootstrap", nodes[0]!.url],
      });
      nodes.push(picky);
      const short = await fetch(`${picky.url}/v1/messages?prefix=5&bits=4`);
      assert.equal(short.status, 422);
      assert.equal(short.headers.get("content-type"), "application/problem+json");
      assert.match((await short.json()).detail, /at least 8 bits/);
      assert.equal((await fetch(`${picky.url}/v1/messages?prefix=5c&bits=8`)).status, 200);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});
