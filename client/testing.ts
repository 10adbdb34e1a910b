/**
 * Test helpers for the wallet library: an in-memory double of the wallet HTTP API
 * (`POST /v1/messages`, `GET /v1/messages`) for unit tests of the client and its transports.
 * Used only by tests; integration tests use real nodes.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, fromBase64, fromHex, toHex } from "./bytes.ts";
import { matchesPrefix } from "./stealth_address.ts";

/** A stored message. */
interface Stored {
  id: string;
  tag: string;
  payload: string;
  received_at: number;
  expires_at: number;
}

/** An in-memory server answering the wallet API through a fetch-compatible function. */
export class FakeServer {
  readonly messages: Stored[] = [];
  /** Requests seen (method, path and query, authorization header). */
  readonly requests: { method: string; url: string; authorization: string | null }[] = [];
  /** Status codes to answer with before handling normally (one per request). */
  failures: number[] = [];
  #waiters: (() => void)[] = [];

  /** Adds a message directly. */
  insert(tagHex: string, payloadB64: string): string {
    const id = toHex(sha256(concat(fromHex(tagHex), fromBase64(payloadB64))));
    if (!this.messages.some((m) => m.id === id)) {
      this.messages.push({ id, tag: tagHex, payload: payloadB64, received_at: 1, expires_at: 2 });
      for (const w of this.#waiters.splice(0)) w();
    }
    return id;
  }

  /** The fetch function to hand to the client. */
  fetch = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    this.requests.push({
      method: req.method,
      url: url.pathname + url.search,
      authorization: req.headers.get("authorization"),
    });
    const fail = this.failures.shift();
    if (fail !== undefined) {
      return Response.json({ title: "injected failure", status: fail }, {
        status: fail,
        headers: { "content-type": "application/problem+json", "retry-after": "0" },
      });
    }
    if (req.method === "POST" && url.pathname === "/v1/messages") {
      const body = await req.json();
      const id = this.insert(body.tag, body.payload);
      return Response.json({ id, expires_at: 2 }, { status: 201 });
    }
    if (req.method === "GET" && url.pathname === "/v1/messages") {
      const bits = Number(url.searchParams.get("bits") ?? "0");
      const prefix = fromHex(url.searchParams.get("prefix") ?? "");
      const after = Number(url.searchParams.get("after") ?? "0");
      const limit = Number(url.searchParams.get("limit") ?? "100");
      const wait = Number(url.searchParams.get("wait") ?? "0");
      const select = () =>
        this.messages
          .map((m, i) => ({ m, seq: i + 1 }))
          .filter(({ m, seq }) => seq > after && matchesPrefix(fromHex(m.tag), prefix, bits))
          .slice(0, limit);
      let found = select();
      if (found.length === 0 && wait > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait * 1000);
          this.#waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
          req.signal.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          });
        });
        found = select();
      }
      const cursor = found.length > 0 ? found[found.length - 1]!.seq : Math.max(after, 0);
      return Response.json({ messages: found.map((f) => f.m), cursor: String(cursor) });
    }
    const one = /^\/v1\/messages\/([0-9a-f]{64})$/.exec(url.pathname);
    const found = one === null ? undefined : this.messages.find((m) => m.id === one[1]);
    if (req.method === "GET" && found !== undefined) return Response.json(found);
    return Response.json({ title: "not found" }, { status: 404 });
  };
}
