/**
 * The client's proxy transport against a real SOCKS5 proxy (Debian's dante-server, started on
 * 127.0.0.1), plus HTTP CONNECT and SOCKS5 username/password against small in-test proxies.
 */
import assert from "node:assert/strict";
import {
  addressForKeys,
  fetchTokens,
  fromHex,
  keysFromSecrets,
  MemoryTokenStore,
  ProxyError,
  proxyFetch,
  signup,
  SubspaceClient,
  utf8,
} from "../client/mod.ts";
import { fakeIssuer, FakeServer } from "../client/testing.ts";
import { freePort, hasDante, startDante } from "./_dante.ts";

/** Serves a FakeServer over real HTTP on 127.0.0.1 (port 0). */
function serveFake(fake: FakeServer) {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => fake.fetch(req),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}

const alice = keysFromSecrets(fromHex("a1".repeat(32)), fromHex("a2".repeat(32)), "mainnet");
const aliceAddr = addressForKeys(alice, { prefixBits: 4 });
const text = (s: string) => ({
  type: "text" as const,
  createdTime: 1,
  memo: "",
  body: utf8.encode(s),
});

async function roundTripThrough(proxy: string, target: string): Promise<void> {
  const client = await SubspaceClient.create({ proxy, retry: { attempts: 1 } });
  const sent = await client.send(target, aliceAddr, text("through the proxy"));
  const got = [];
  for await (
    const m of client.watch({ ...alice, prefix: aliceAddr.prefix, prefixBits: 4 }, {
      servers: [target],
      follow: false,
    })
  ) got.push(m);
  const mine = got.find((m) => m.id === sent.id);
  assert.ok(mine !== undefined, "the message sent through the proxy was read back through it");
  assert.equal(new TextDecoder().decode(mine.payload.body), "through the proxy");
}

Deno.test({
  name: "SOCKS5: client sends and watches through Debian's dante-server",
  ignore: !hasDante,
  async fn() {
    const dante = await startDante();
    const fake = new FakeServer();
    const http = serveFake(fake);
    try {
      await roundTripThrough(dante.url, http.url);
      // Host names are resolved by the proxy (address type 3).
      await roundTripThrough(
        dante.url.replace("socks5:", "socks5h:"),
        http.url.replace("127.0.0.1", "localhost"),
      );
      // A refused target is reported with the SOCKS5 reply explained.
      const closed = freePort();
      await assert.rejects(
        () => proxyFetch(dante.url)(new Request(`http://127.0.0.1:${closed}/`)),
        (e) =>
          e instanceof ProxyError &&
          /could not connect .*refused|unreachable|failure/.test(e.message),
      );
    } finally {
      await http.close();
      await dante.stop();
    }
  },
});

/** A minimal HTTP CONNECT proxy (one tunnel per connection). */
function connectProxy() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const tasks: Promise<void>[] = [];
  (async () => {
    for await (const conn of listener) {
      tasks.push(
        (async () => {
          const buf = new Uint8Array(4096);
          let head = "";
          while (!head.includes("\r\n\r\n")) {
            const n = await conn.read(buf);
            if (n === null) return conn.close();
            head += new TextDecoder().decode(buf.subarray(0, n));
          }
          const target = head.split(" ")[1]!;
          seen.push(target);
          const [host, port] = target.split(":");
          const upstream = await Deno.connect({ hostname: host!, port: Number(port) });
          await conn.write(utf8.encode("HTTP/1.1 200 Connection established\r\n\r\n"));
          await Promise.allSettled([
            conn.readable.pipeTo(upstream.writable),
            upstream.readable.pipeTo(conn.writable),
          ]);
        })().catch(() => {}),
      );
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    async close() {
      listener.close();
      await Promise.allSettled(tasks);
    },
  };
}

Deno.test("HTTP CONNECT proxy: client sends and watches through it", async () => {
  const fake = new FakeServer();
  const http = serveFake(fake);
  const proxy = connectProxy();
  try {
    await roundTripThrough(proxy.url, http.url);
    assert.ok(proxy.seen.length >= 2);
    assert.equal(proxy.seen[0], new URL(http.url).host);
  } finally {
    await http.close();
    await proxy.close();
  }
});

Deno.test("HTTP CONNECT proxy: signup, tokens and a paid post all go through it", async () => {
  const fake = new FakeServer(await fakeIssuer());
  const http = serveFake(fake);
  const proxy = connectProxy();
  try {
    const { account } = await signup(http.url, () => "right", { proxy: proxy.url });
    const store = new MemoryTokenStore();
    await fetchTokens(http.url, { account, count: 2, store, proxy: proxy.url });
    const client = await SubspaceClient.create({
      proxy: proxy.url,
      tokens: store,
      retry: { attempts: 1 },
    });
    await client.send(http.url, aliceAddr, text("paid, through the proxy"));
    assert.equal(fake.issuer!.redeemed, 1);
    // captcha, accounts, info, directory, account state, tokens; the client's info (limits
    // checked before a token is spent), post: one tunnel each, none direct.
    assert.equal(proxy.seen.length, 8);
    assert.ok(proxy.seen.every((t) => t === new URL(http.url).host));
  } finally {
    await http.close();
    await proxy.close();
  }
});

Deno.test("proxy transport reads large fixed-length and chunked bodies intact", async () => {
  const big = Uint8Array.from(
    { length: 3 * 1024 * 1024 + 17 },
    (_, i) => (i * 31 + (i >> 11)) & 0xff,
  );
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/fixed") return new Response(big);
      if (path === "/echo") return new Response(await req.arrayBuffer());
      // A streamed body goes out with Transfer-Encoding: chunked.
      let off = 0;
      return new Response(
        new ReadableStream({
          pull(c) {
            if (off >= big.length) return c.close();
            const n = 1 + (off % 70_001);
            c.enqueue(big.slice(off, off + n));
            off += n;
          },
        }),
      );
    },
  );
  const proxy = connectProxy();
  try {
    const f = proxyFetch(proxy.url);
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (const path of ["/fixed", "/chunked"]) {
      const res = await f(new Request(base + path));
      assert.equal(res.status, 200);
      const got = new Uint8Array(await res.arrayBuffer());
      assert.equal(got.length, big.length, path);
      assert.ok(got.every((b, i) => b === big[i]), path);
    }
    const echo = await f(
      new Request(base + "/echo", { method: "POST", body: big.subarray(0, 100_000) }),
    );
    assert.equal((await echo.arrayBuffer()).byteLength, 100_000);
  } finally {
    ac.abort();
    await server.finished;
    await proxy.close();
  }
});

Deno.test("SOCKS5 username/password negotiation (RFC 1929)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const fake = new FakeServer();
  const http = serveFake(fake);
  const credentials: string[] = [];
  const serverTask = (async () => {
    for (let i = 0; i < 2; i++) {
      const conn = await listener.accept();
      const read = async (n: number) => {
        const out = new Uint8Array(n);
        let off = 0;
        while (off < n) {
          const got = await conn.read(out.subarray(off));
          if (got === null) throw new Error("eof");
          off += got;
        }
        return out;
      };
      const [, nMethods] = await read(2);
      const methods = await read(nMethods!);
      assert.ok(methods.includes(2));
      await conn.write(Uint8Array.of(5, 2));
      const [, ulen] = await read(2);
      const user = new TextDecoder().decode(await read(ulen!));
      const [plen] = await read(1);
      const pass = new TextDecoder().decode(await read(plen!));
      credentials.push(`${user}:${pass}`);
      if (pass !== "secret") {
        await conn.write(Uint8Array.of(1, 1));
        conn.close();
        continue;
      }
      await conn.write(Uint8Array.of(1, 0));
      const [, , , atyp] = await read(4);
      assert.equal(atyp, 1);
      await read(4 + 2);
      await conn.write(Uint8Array.of(5, 0, 0, 1, 127, 0, 0, 1, 0, 0));
      const upstream = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(new URL(http.url).port),
      });
      await Promise.allSettled([
        conn.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(conn.writable),
      ]);
    }
  })();
  try {
    await assert.rejects(
      () => proxyFetch(`socks5://tor:wrong@127.0.0.1:${port}`)(new Request(`${http.url}/v1/info`)),
      /rejected the username\/password/,
    );
    const res = await proxyFetch(`socks5://tor:secret@127.0.0.1:${port}`)(
      new Request(`${http.url}/v1/messages?prefix=&bits=0`),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { messages: [], cursor: "0" });
    assert.deepEqual(credentials, ["tor:wrong", "tor:secret"]);
  } finally {
    await serverTask.catch(() => {});
    listener.close();
    await http.close();
  }
});

Deno.test("proxy URLs are validated", () => {
  assert.throws(
    () => proxyFetch("ftp://x:1"),
    /expected socks5:\/\/host:port or http:\/\/host:port/,
  );
  assert.throws(() => proxyFetch("::nonsense"), /Cannot parse proxy URL/);
});
