/**
 * A fake Esplora server for tests: real HTTP on 127.0.0.1 (port 0), a chain tip and a list of
 * transactions it reports for `GET /api/blocks/tip/height`, `GET /api/address/:a/txs` and
 * `GET /api/address/:a/txs/chain/:txid`. It records every path asked.
 *
 * @module
 */

/** A transaction the fake reports. */
export interface FakeTx {
  txid: string;
  to: string;
  value: number;
  /** Block height, or undefined while in the mempool. */
  height?: number;
}

/** Starts a fake Esplora server; `url` is its API base (`http://127.0.0.1:PORT/api`). */
export function fakeEsplora() {
  const state = { tip: 100, txs: [] as FakeTx[], failing: false, requests: [] as string[] };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    state.requests.push(path);
    if (state.failing) return new Response("backend down", { status: 503 });
    if (path === "/api/blocks/tip/height") return new Response(String(state.tip));
    const m = /^\/api\/address\/([^/]+)\/txs(?:\/chain\/([0-9a-f]+))?$/.exec(path);
    if (m) {
      const addr = decodeURIComponent(m[1]!);
      const mine = state.txs.filter((t) => t.to === addr);
      const toJson = (t: FakeTx) => ({
        txid: t.txid,
        vout: [
          { scriptpubkey_address: t.to, value: t.value },
          { scriptpubkey_address: "bc1qchange", value: 5000 },
        ],
        status: t.height === undefined
          ? { confirmed: false }
          : { confirmed: true, block_height: t.height },
      });
      const mempool = mine.filter((t) => t.height === undefined).map(toJson);
      const chain = mine.filter((t) => t.height !== undefined)
        .sort((a, b) => b.height! - a.height!).map(toJson);
      if (m[2] === undefined) return Response.json([...mempool, ...chain.slice(0, 25)]);
      const i = chain.findIndex((t) => t.txid === m[2]);
      return Response.json(chain.slice(i + 1, i + 26));
    }
    return new Response("not found", { status: 404 });
  });
  return { state, url: `http://127.0.0.1:${server.addr.port}/api`, close: () => server.shutdown() };
}
