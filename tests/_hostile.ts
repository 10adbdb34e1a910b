/**
 * Test helper: a hostile DHT peer built on the project's own signing code (it signs requests
 * and notices like an honest node but says whatever it likes), and a canary HTTP server that
 * records every request it receives.
 *
 * @module
 */
import {
  generateIdentity,
  HEADER,
  type NodeIdentity,
  noticeToJson,
  signNotices,
  signRequest,
  signResponse,
} from "../node/dht/mod.ts";

/** What a hostile notice claims. */
export interface NoticeClaim {
  id: string;
  tag: string;
  size: number;
  expiresAt?: number;
  createdAtMs?: number;
}

/** A peer that signs what it likes. */
export class HostilePeer {
  readonly identity: NodeIdentity;
  readonly url: string;
  #nonce = 0;

  constructor(url: string, identity: NodeIdentity = generateIdentity()) {
    this.url = url;
    this.identity = identity;
  }

  /** Sends one signed RPC; `skewMs` shifts the request's timestamp. Returns status and body. */
  async rpc(
    target: { url: string; id: string },
    rpc: string,
    body: unknown,
    opts: { skewMs?: number; unsigned?: boolean } = {},
  ): Promise<{ status: number; body: unknown }> {
    const wire = signRequest({
      identity: this.identity,
      selfUrl: this.url,
      rpc: rpc as never,
      to: (rpc === "ping" || rpc === "find_node" ? "" : target.id) as never,
      body: new TextEncoder().encode(JSON.stringify(body)),
      nowMs: Date.now() + (opts.skewMs ?? 0),
      nonce: (Date.now() * 1000 + this.#nonce++).toString(16).padStart(32, "0").slice(-32),
    });
    const headers: Record<string, string> = { ...wire.headers, "content-type": "application/json" };
    if (opts.unsigned) delete headers["subspace-signature"];
    const res = await fetch(`${target.url}/dht/${rpc}`, {
      method: "POST",
      headers,
      body: wire.body as Uint8Array<ArrayBuffer>,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  /** Signed notices (one group) whose origin is `originUrl` (default: this peer's URL). */
  notices(claims: NoticeClaim[], originUrl = this.url): unknown[] {
    const now = Date.now();
    return signNotices(
      this.identity,
      originUrl,
      claims.map((c) => ({
        id: c.id,
        tag: c.tag,
        size: c.size,
        expiresAt: c.expiresAt ?? Math.floor(now / 1000) + 600,
        createdAtMs: c.createdAtMs ?? now,
      })),
    ).map(noticeToJson);
  }

  /** Broadcasts `notices` to `target` as tree 0. */
  async sendNotices(
    target: { url: string; id: string },
    notices: unknown[],
  ): Promise<{ status: number; body: unknown }> {
    return await this.rpc(target, "notices", {
      notices: notices.map((notice) => ({ notice, tree: 0 })),
    });
  }
}

/** A server on 127.0.0.1 that answers 200 to everything and records each request. */
export interface Canary {
  url: string;
  port: number;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/** Starts a {@linkcode Canary}. */
export async function startCanary(hostname = "127.0.0.1"): Promise<Canary> {
  const requests: Canary["requests"] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port: 0,
    onListen: (a) => listening.resolve(a),
  }, async (req) => {
    const u = new URL(req.url);
    requests.push({ method: req.method, path: u.pathname + u.search });
    await req.body?.cancel();
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  const { port } = await listening.promise;
  return {
    url: `http://${hostname}:${port}`,
    port,
    requests,
    close: () => server.shutdown(),
  };
}

/** A server on 127.0.0.1 that holds every request for `delayMs` before answering 503. */
export async function startTarpit(delayMs: number): Promise<Canary> {
  const requests: Canary["requests"] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => listening.resolve(a),
  }, async (req) => {
    const u = new URL(req.url);
    requests.push({ method: req.method, path: u.pathname });
    await new Promise<void>((r) => {
      const t = setTimeout(r, delayMs);
      req.signal.addEventListener("abort", () => (clearTimeout(t), r()));
    });
    return new Response("{}", { status: 503 });
  });
  const { port } = await listening.promise;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => server.shutdown(),
  };
}

/**
 * One server on 127.0.0.1 that answers `ping` signed as whichever of many identities the request
 * is addressed to: throwaway identities that all pass a contact check, on one address.
 */
export async function startSybilServer(): Promise<{
  url: string;
  peers: HostilePeer[];
  add(n: number): HostilePeer[];
  close(): Promise<void>;
}> {
  const byId = new Map<string, NodeIdentity>();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let url = "";
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => listening.resolve(a),
  }, async (req) => {
    await req.body?.cancel();
    const identity = byId.get(req.headers.get(HEADER.to) ?? "");
    const nonce = req.headers.get(HEADER.nonce) ?? "";
    if (identity === undefined) return new Response("{}", { status: 404 });
    const res = signResponse({
      identity,
      selfUrl: url,
      rpc: "ping",
      requestNonce: nonce,
      status: 200,
      body: new TextEncoder().encode("{}"),
      nowMs: Date.now(),
    });
    return new Response(res.body as Uint8Array<ArrayBuffer>, {
      status: res.status,
      headers: { ...res.headers, "content-type": "application/json" },
    });
  });
  const { port } = await listening.promise;
  url = `http://127.0.0.1:${port}`;
  const peers: HostilePeer[] = [];
  return {
    url,
    peers,
    add(n: number) {
      const made = Array.from({ length: n }, () => new HostilePeer(url));
      for (const p of made) byId.set(p.identity.id, p.identity);
      peers.push(...made);
      return made;
    },
    close: () => server.shutdown(),
  };
}
