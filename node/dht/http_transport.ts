/**
 * DHT requests over HTTP: `POST <url>/dht/<rpc>` with the envelope in `Subspace-*` headers and
 * the JSON body; the response carries the responder's signed envelope the same way.
 *
 * @module
 */
import {
  HEADER,
  isRpcName,
  type RpcName,
  type WireRequest,
  type WireResponse,
} from "./envelope.ts";
import { type RpcHandler, type Transport, TransportError } from "./transport.ts";
import { bodyDeadline, readStreamLimited } from "../body.ts";
import { PeerAddressError, PeerAddressPolicy } from "./peer_address.ts";

/** Largest request body a node accepts (a full notice batch is about 200 KB). */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Largest response body a node reads (a fetched message body plus JSON overhead). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const ENVELOPE_HEADERS = Object.values(HEADER);

function pickHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ENVELOPE_HEADERS) {
    const v = h.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

/** Options for {@linkcode HttpTransport}. */
export interface HttpTransportOptions {
  /** Which peer addresses may be requested (default: public addresses only). */
  policy?: PeerAddressPolicy;
}

/**
 * Sends requests with `fetch` (connections are kept alive and reused). Only `POST
 * <base>/dht/<rpc>` is ever requested, only at addresses the policy allows, and redirects are
 * not followed: a peer's URL cannot make this node request anything else.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport({ policy: new PeerAddressPolicy({ allowPrivate: false }) });
 * ```
 */
export class HttpTransport implements Transport {
  #policy: PeerAddressPolicy;

  constructor(opts: HttpTransportOptions = {}) {
    this.#policy = opts.policy ?? new PeerAddressPolicy({ allowPrivate: false });
  }

  /** POSTs to `<url>/dht/<rpc>`. */
  async send(
    url: string,
    rpc: RpcName,
    req: WireRequest,
    timeoutMs: number,
  ): Promise<WireResponse> {
    try {
      await this.#policy.check(url);
    } catch (e) {
      if (e instanceof PeerAddressError) throw new TransportError("refused", e.message);
      throw e;
    }
    let res: Response;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      res = await fetch(`${url}/dht/${rpc}`, {
        method: "POST",
        headers: { ...req.headers, "content-type": "application/json" },
        body: req.body as Uint8Array<ArrayBuffer>,
        redirect: "manual",
        signal,
      });
    } catch (e) {
      if (signal.aborted) {
        throw new TransportError("timeout", `no response from ${url} within ${timeoutMs} ms`);
      }
      throw new TransportError("unreachable", `cannot reach ${url}: ${(e as Error).message}`);
    }
    let body: Uint8Array | null;
    try {
      body = await readStreamLimited(res.body, MAX_RESPONSE_BYTES);
    } catch (e) {
      throw new TransportError(
        signal.aborted ? "timeout" : "unreachable",
        `reading response from ${url}: ${(e as Error).message}`,
      );
    }
    if (body === null) {
      throw new TransportError("too-large", `response from ${url} exceeds ${MAX_RESPONSE_BYTES}`);
    }
    return { status: res.status, headers: pickHeaders(res.headers), body };
  }
}

/**
 * Adapts an {@link RpcHandler} to a `fetch`-style handler for `POST /dht/<rpc>` (mount it on the
 * HTTP server; `remoteAddr` must come from the socket, never from a header).
 *
 * @example
 * ```ts
 * const serveDht = httpRpcHandler(node.handle);
 * app.post("/dht/:rpc", (c) => serveDht(c.req.raw, remoteAddrOf(c)));
 * ```
 */
export function httpRpcHandler(
  handler: RpcHandler,
  opts: { maxBatchesPerAddr?: number } = {},
): (req: Request, remoteAddr: string) => Promise<Response> {
  const maxBatches = opts.maxBatchesPerAddr ?? 8;
  const batches = new Map<string, number>();
  return async (req, remoteAddr) => {
    const rpc = new URL(req.url).pathname.replace(/^.*\/dht\//, "");
    if (req.method !== "POST") return problem(405, "DHT RPCs are POST requests");
    if (!isRpcName(rpc)) return problem(404, `unknown DHT RPC ${rpc.slice(0, 40)}`);
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > MAX_REQUEST_BYTES) return problem(413, "request body too large");
    // Notice batches are large: a few per address are read at a time, the rest refused before
    // their bodies are read, so one address cannot fill the node's memory.
    const counted = rpc === "notices";
    if (counted) {
      const n = batches.get(remoteAddr) ?? 0;
      if (n >= maxBatches) {
        await req.body?.cancel();
        return problem(429, "too many notice batches in flight");
      }
      batches.set(remoteAddr, n + 1);
    }
    try {
      const body = await readStreamLimited(req.body, MAX_REQUEST_BYTES, bodyDeadline(req));
      if (body === null) return problem(413, "request body too large");
      const res = await handler(rpc, { headers: pickHeaders(req.headers), body }, { remoteAddr });
      return new Response(res.body as Uint8Array<ArrayBuffer>, {
        status: res.status,
        headers: { ...res.headers, "content-type": "application/json" },
      });
    } finally {
      if (counted) {
        const left = (batches.get(remoteAddr) ?? 1) - 1;
        if (left > 0) batches.set(remoteAddr, left);
        else batches.delete(remoteAddr);
      }
    }
  };
}

function problem(status: number, detail: string): Response {
  return new Response(JSON.stringify({ title: "DHT request refused", status, detail }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}
