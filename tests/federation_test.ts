/**
 * Federation with real node processes on 127.0.0.1: ten servers join through one, a message
 * POSTed at one reaches a long poll at another, survives its origin once a peer kept a copy,
 * reaches a server that was offline when it was sent, and a peer sending bad signatures or
 * floods is refused while honest traffic flows.
 */
import assert from "node:assert/strict";
import { type NodeProcess, SHARED_ADDRESS_ARGS, startNode } from "./_node.ts";
import {
  generateIdentity,
  noticeToJson,
  signNotice,
  signRequest,
  type WireRequest,
} from "../node/dht/mod.ts";

const COMMON = [
  "--quota",
  "open",
  "--dht-range-limits",
  "false", // ten nodes share 127.0.0.1
  "--dht-private-peers", // loopback peers
  "true",
  ...SHARED_ADDRESS_ARGS,
];

async function info(
  n: NodeProcess,
): Promise<{ node_id: string; federation: { contacts: number } }> {
  return await (await fetch(`${n.url}/v1/info`)).json();
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

function randomTag(): string {
  return crypto.getRandomValues(new Uint8Array(20)).toHex();
}

async function post(n: NodeProcess, tag: string, text: string): Promise<string> {
  const res = await fetch(`${n.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: btoa(text), ttl_seconds: 3600 }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

type Msg = { id: string; tag: string; payload: string | null };
async function get(n: NodeProcess, tag: string, waitSeconds = 0): Promise<Msg[]> {
  const res = await fetch(
    `${n.url}/v1/messages?prefix=${tag.slice(0, 8)}&bits=32&wait=${waitSeconds}`,
  );
  assert.equal(res.status, 200);
  return (await res.json()).messages;
}

Deno.test({
  name: "federation: 10 real nodes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const nodes: NodeProcess[] = [];
    try {
      nodes.push(await startNode({ args: COMMON }));
      nodes.push(
        ...await Promise.all(
          Array.from(
            { length: 9 },
            () => startNode({ args: [...COMMON, "--bootstrap", nodes[0]!.url] }),
          ),
        ),
      );
      await until("every node to know at least 5 peers", async () => {
        const all = await Promise.all(nodes.map(info));
        return all.every((i) => i.federation.contacts >= 5) ? true : undefined;
      });

      await t.step("POST at one node wakes a long poll at another", async () => {
        const tag = randomTag();
        const poll = get(nodes[7]!, tag, 30);
        await new Promise((r) => setTimeout(r, 300)); // the poll is waiting
        const id = await post(nodes[3]!, tag, "hello from 3");
        const got = await poll;
        assert.deepEqual(got.map((m) => [m.id, atob(m.payload!)]), [[id, "hello from 3"]]);
        // Every server answers for it.
        for (const n of nodes) {
          await until(`node ${n.url} to list the message`, async () => {
            const m = await get(n, tag);
            return m.length === 1 && m[0]!.id === id ? true : undefined;
          });
        }
      });

      await t.step("a message survives its origin once a peer kept a copy", async () => {
        const tag = randomTag();
        const id = await post(nodes[1]!, tag, "kept");
        // Node 2 fetches it for a wallet and keeps it (replicate=fetched), announcing itself.
        const first = await until("node 2 to deliver", async () => {
          const m = await get(nodes[2]!, tag);
          return m.length === 1 ? m : undefined;
        });
        assert.equal(first[0]!.id, id);
        await new Promise((r) => setTimeout(r, 1000)); // provider records reach the k closest
        await nodes[1]!.kill();
        const later = await until("node 5 to deliver without the origin", async () => {
          const m = await get(nodes[5]!, tag);
          return m.length === 1 && m[0]!.payload !== null ? m : undefined;
        });
        assert.equal(atob(later[0]!.payload!), "kept");
      });

      await t.step("a node that was offline catches up after a restart", async () => {
        const sleeper = nodes[8]!;
        await sleeper.stop();
        const tag = randomTag();
        const id = await post(nodes[4]!, tag, "while you were away");
        await until("the other nodes to know it", async () => {
          const m = await get(nodes[6]!, tag);
          return m.length === 1 ? true : undefined;
        });
        const back = await startNode({
          args: [...COMMON, "--bootstrap", nodes[0]!.url],
          dataDir: sleeper.dataDir,
          port: sleeper.port,
        });
        nodes[8] = back;
        const got = await until("the restarted node to catch up", async () => {
          const m = await get(back, tag);
          return m.length === 1 ? m : undefined;
        });
        assert.equal(got[0]!.id, id);
        assert.equal(atob(got[0]!.payload!), "while you were away");
      });

      await t.step("bad signatures and floods are refused while honest traffic flows", async () => {
        const victim = nodes[6]!;
        const victimId = (await info(victim)).node_id;
        const attacker = generateIdentity();
        const attackerUrl = "http://127.0.0.1:9"; // nobody listens there
        let nonce = 0;
        const send = async (wire: WireRequest, rpc: string) => {
          const res = await fetch(`${victim.url}/dht/${rpc}`, {
            method: "POST",
            headers: { ...wire.headers, "content-type": "application/json" },
            body: wire.body as Uint8Array<ArrayBuffer>,
          });
          await res.body?.cancel();
          return res.status;
        };
        // Tags next to the victim's id: it is responsible for them, so it checks them (a notice
        // for a tag it knows closer servers for is dropped before any signature work).
        const forged = (i: number) => {
          const n = noticeToJson(signNotice(attacker, attackerUrl, {
            id: (1000 + i).toString(16).padStart(64, "0"),
            tag: victimId.slice(0, 30) + randomTag().slice(30),
            size: 5,
            expiresAt: Math.floor(Date.now() / 1000) + 60,
            createdAtMs: Date.now(),
          }));
          return { ...n, size: 6 }; // the origin signature no longer matches
        };
        const batch = (i: number) =>
          signRequest({
            identity: attacker,
            selfUrl: attackerUrl,
            rpc: "notices",
            to: victimId as never,
            body: new TextEncoder().encode(
              JSON.stringify({ notices: [{ notice: forged(i), tree: 0 }] }),
            ),
            nowMs: Date.now(),
            nonce: (nonce++).toString(16).padStart(32, "0"),
          });
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push(await send(batch(i), "notices"));
        assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]); // answered, notices rejected
        assert.deepEqual(statuses.slice(3), [403, 403]); // then banned
        // Unsigned and replayed requests are refused too.
        const ping = signRequest({
          identity: generateIdentity(),
          selfUrl: attackerUrl,
          rpc: "ping",
          to: "",
          body: new TextEncoder().encode("{}"),
          nowMs: Date.now(),
          nonce: "aa".repeat(16),
        });
        assert.equal(await send(ping, "ping"), 200);
        assert.equal(await send(ping, "ping"), 401);
        const unsigned = { ...ping, headers: { ...ping.headers } };
        delete unsigned.headers["subspace-signature"];
        assert.equal(await send(unsigned, "ping"), 401);
        // A flood of pings from one peer runs into its rate limit (200/s, burst 400).
        const flooder = generateIdentity();
        const counts: Record<number, number> = {};
        for (let i = 0; i < 20_000 && counts[429] === undefined; i += 50) {
          const statuses = await Promise.all(Array.from({ length: 50 }, (_, j) =>
            send(
              signRequest({
                identity: flooder,
                selfUrl: attackerUrl,
                rpc: "ping",
                to: "",
                body: new TextEncoder().encode("{}"),
                nowMs: Date.now(),
                nonce: (i + j + 1).toString(16).padStart(32, "0"),
              }),
              "ping",
            )));
          for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
        }
        assert.ok(counts[429] !== undefined, `flood was not throttled: ${JSON.stringify(counts)}`);
        // Honest traffic still flows to the victim.
        const tag = randomTag();
        const id = await post(nodes[0]!, tag, "still here");
        const got = await until("the victim to deliver", async () => {
          const m = await get(victim, tag);
          return m.length === 1 ? m : undefined;
        });
        assert.equal(got[0]!.id, id);
      });
    } finally {
      await Promise.all(nodes.map((n) => n.kill()));
      await Promise.all(
        nodes.map((n) => Deno.remove(n.dataDir, { recursive: true }).catch(() => {})),
      );
    }
  },
});
