/**
 * Three real `serve` processes on one PostgreSQL database behave as one server: a POST at one
 * wakes a long poll at another, a wallet paging with cursors across all three sees every
 * message exactly once while slow and fast commits interleave, killing one loses no
 * acknowledged message, and background jobs run in one process and fail over.
 */
import assert from "node:assert/strict";
import pg from "pg";
import { type NodeProcess, startNode } from "./_node.ts";
import { ackingLoad } from "./_load.ts";
import { freshDatabase, PG_URL } from "../node/store/testing.ts";
import { markSql } from "../node/store/pg_shared.ts";
import { createAccount, fetchCaptcha, fetchIssuerKey, fetchTokens } from "../client/tokens.ts";
import { formatAuthorization } from "../client/token_wire.ts";

const LOAD_ARGS = ["--rate-limit", "100000", "--rate-burst", "100000"];

async function cluster(
  n: number,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ nodes: NodeProcess[]; url: string; close(): Promise<void> }> {
  const db = await freshDatabase();
  const nodes: NodeProcess[] = [];
  try {
    // The first migrates the database; the others start together.
    nodes.push(await startNode({ args: ["--store", db.url, ...LOAD_ARGS, ...args], env }));
    nodes.push(
      ...await Promise.all(
        Array.from(
          { length: n - 1 },
          () => startNode({ args: ["--store", db.url, ...LOAD_ARGS, ...args], env }),
        ),
      ),
    );
  } catch (err) {
    await Promise.all(nodes.map((p) => p.stop()));
    await db.drop();
    throw err;
  }
  return {
    nodes,
    url: db.url,
    async close() {
      await Promise.all(nodes.map((p) => p.stop()));
      await db.drop();
    },
  };
}

function randomTagHex(prefix: string): string {
  const rest = crypto.getRandomValues(new Uint8Array(20)).toHex();
  return (prefix + rest.slice(prefix.length)).slice(0, 40);
}

async function post(url: string, tag: string, text: string): Promise<string> {
  const res = await fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: btoa(text) }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.id;
}

interface Page {
  messages: { id: string; payload: string }[];
  cursor: string;
}

async function page(url: string, prefix: string, after: string, wait = 0): Promise<Page> {
  const q = `prefix=${prefix}&bits=${prefix.length * 4}&limit=7&wait=${wait}` +
    (after === "" ? "" : `&after=${after}`);
  const res = await fetch(`${url}/v1/messages?${q}`);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

Deno.test({
  name: "three processes on one database: a POST at one wakes a long poll at another",
  ignore: PG_URL === undefined,
  async fn() {
    const c = await cluster(3);
    try {
      const [a, b, cc] = c.nodes as [NodeProcess, NodeProcess, NodeProcess];
      // One server: one DHT node id, one one-time console password.
      const ids = await Promise.all(
        c.nodes.map(async (n) => (await (await fetch(`${n.url}/v1/info`)).json()).node_id),
      );
      assert.match(ids[0], /^[0-9a-f]{40}$/);
      assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
      const passwords = c.nodes.flatMap((n) =>
        n.logs.filter((l) => l.includes("one-time console password generated"))
      );
      assert.equal(passwords.length, 1, passwords.join("\n"));
      for (const [poster, poller] of [[a, b], [b, cc], [cc, a]] as const) {
        const prefix = crypto.getRandomValues(new Uint8Array(2)).toHex();
        const first = await page(poller.url, prefix, "");
        const t0 = performance.now();
        const polling = page(poller.url, prefix, first.cursor, 20);
        await new Promise((r) => setTimeout(r, 200));
        const id = await post(poster.url, randomTagHex(prefix), "wake up");
        const got = await polling;
        assert.deepEqual(got.messages.map((m) => m.id), [id]);
        // Woken by the notification, not by the end of the 20 s wait.
        assert.ok(performance.now() - t0 < 15_000);
      }
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "three processes: cursor paging sees every message once while slow and fast commits interleave",
  ignore: PG_URL === undefined,
  async fn() {
    const c = await cluster(3);
    const slow = new pg.Client({ connectionString: c.url });
    await slow.connect();
    try {
      const urls = c.nodes.map((n) => n.url);
      const prefix = "beef";
      const sequence = (await slow.query("SELECT pg_get_serial_sequence('messages','seq') AS s"))
        .rows[0].s;
      const posted = new Set<string>();
      const seen = new Map<string, number>();
      let cursor = "";
      let reads = 0;
      const readSome = async () => {
        for (let i = 0; i < 3; i++) {
          const p = await page(urls[reads++ % urls.length]!, prefix, cursor);
          for (const m of p.messages) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
          cursor = p.cursor;
        }
      };
      for (let round = 0; round < 6; round++) {
        // A slow writer takes a sequence number first and commits last.
        await slow.query("BEGIN");
        await slow.query(markSql(sequence));
        const payload = new TextEncoder().encode(`slow ${round}`);
        const tag = randomTagHex(prefix);
        const slowId = new Uint8Array(
          await crypto.subtle.digest(
            "SHA-256",
            new Uint8Array([...Uint8Array.fromHex(tag), ...payload]),
          ),
        ).toHex();
        await slow.query(
          "INSERT INTO messages (id, tag, payload, size, received_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)",
          [
            Uint8Array.fromHex(slowId),
            Uint8Array.fromHex(tag),
            payload,
            payload.length,
            Date.now(),
            Date.now() + 3_600_000,
          ],
        );
        posted.add(slowId);
        // Fast commits at all three processes, concurrently, while the wallet pages.
        await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            posted.add(await post(urls[i % 3]!, randomTagHex(prefix), `fast ${round}.${i}`));
          }),
        );
        await readSome();
        await slow.query("COMMIT");
        await readSome();
      }
      // Drain: every message arrives once the last commit is under every watermark.
      const deadline = Date.now() + 30_000;
      while (seen.size < posted.size && Date.now() < deadline) {
        const p = await page(urls[reads++ % urls.length]!, prefix, cursor, 2);
        for (const m of p.messages) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
        cursor = p.cursor;
      }
      assert.equal(posted.size, 6 * 13);
      assert.deepEqual([...posted].filter((id) => !seen.has(id)), [], "no message skipped");
      assert.deepEqual([...seen].filter(([, n]) => n !== 1), [], "no message twice");
    } finally {
      await slow.end();
      await c.close();
    }
  },
});

Deno.test({
  name: "three processes: kill -9 one under load loses no acknowledged message; jobs fail over",
  ignore: PG_URL === undefined,
  async fn() {
    const c = await cluster(3, ["--sweep-interval", "1"]);
    try {
      const leader = () =>
        c.nodes.filter((n) =>
          n.logs.some((l) => l.includes('"job":"sweeper"') && l.includes("background job"))
        );
      const until = async (what: string, ok: () => boolean) => {
        const end = Date.now() + 60_000;
        while (!ok()) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until("a sweeper", () => leader().length > 0);
      const first = leader();
      assert.equal(first.length, 1, "one process runs the sweeper");
      const victim = first[0]!;
      const loads = c.nodes.map((n) => ackingLoad(n.url, 6));
      await new Promise((r) => setTimeout(r, 600 + Math.random() * 600));
      await victim.kill();
      await new Promise((r) => setTimeout(r, 500));
      await Promise.all(loads.map((l) => l.stop()));
      const survivors = c.nodes.filter((n) => n !== victim);
      await until("another sweeper", () => leader().some((n) => n !== victim));
      assert.equal(leader().filter((n) => n !== victim).length, 1, "one survivor took over");

      const acked = new Map<string, unknown>();
      for (const l of loads) for (const [id, m] of l.acked) acked.set(id, m);
      assert.ok(acked.size > 50, `expected load before the kill, got ${acked.size} acks`);
      const ids = [...acked.keys()];
      let missing = 0;
      for (let i = 0; i < ids.length; i += 32) {
        await Promise.all(
          ids.slice(i, i + 32).map(async (id, j) => {
            const res = await fetch(`${survivors[j % 2]!.url}/v1/messages/${id}`);
            await res.body?.cancel();
            if (res.status !== 200) missing++;
          }),
        );
      }
      assert.equal(missing, 0, `${missing} of ${ids.length} acknowledged messages lost`);
      // The survivors keep serving writes.
      for (const s of survivors) await post(s.url, randomTagHex("ab"), "still here");
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name: "three processes: one issuer, shared captchas, a token spent once across all of them",
  ignore: PG_URL === undefined,
  async fn() {
    const answer = "abcde";
    const c = await cluster(3, ["--quota", "tokens", "--free-tokens", "10"], {
      SUBSPACE_TEST_CAPTCHA_ANSWER: answer,
    });
    try {
      const urls = c.nodes.map((n) => n.url);
      // One key for the server, whichever process answers.
      const keys = await Promise.all(urls.map((u) => fetchIssuerKey(u)));
      for (const k of keys) assert.deepEqual(k.tokenKey, keys[0]!.tokenKey);
      // A captcha drawn at one process is answered at another, once.
      const captcha = await fetchCaptcha(urls[0]!);
      const { account } = await createAccount(urls[1]!, captcha.id, answer);
      await assert.rejects(createAccount(urls[2]!, captcha.id, answer), /unknown or used/);
      // Tokens issued by one process are accepted by the others, each exactly once.
      const { tokens } = await fetchTokens(urls[2]!, { account, count: 3 });
      const send = async (url: string, token: Uint8Array) => {
        const res = await fetch(`${url}/v1/messages`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: formatAuthorization(token),
          },
          body: JSON.stringify({ tag: randomTagHex("cc"), payload: btoa(crypto.randomUUID()) }),
        });
        await res.body?.cancel();
        return res.status;
      };
      const statuses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => send(urls[i % 3]!, tokens[0]!)),
      );
      assert.equal(statuses.filter((s) => s === 201).length, 1, String(statuses));
      assert.equal(statuses.filter((s) => s !== 201 && s !== 401).length, 0, String(statuses));
      assert.equal(await send(urls[1]!, tokens[1]!), 201);
      assert.equal(await send(urls[0]!, tokens[1]!), 401);
      // The account's quota is one: 10 free tokens, 3 taken, 7 left wherever it asks.
      const more = await fetchTokens(urls[0]!, { account, count: 7 });
      assert.equal(more.freeRemaining, 0);
      await assert.rejects(fetchTokens(urls[1]!, { account, count: 1 }));
    } finally {
      await c.close();
    }
  },
});
