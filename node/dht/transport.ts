/**
 * How DHT requests travel. The node only sees this interface; {@link MemoryNetwork} (in
 * `memory_transport.ts`) runs thousands of nodes in one process and `HttpTransport` (in
 * `http_transport.ts`) talks to real servers.
 *
 * @module
 */
import type { RpcName, WireRequest, WireResponse } from "./envelope.ts";

/** Why a request got no response. */
export type TransportFailure = "timeout" | "unreachable" | "too-large" | "refused";

/** A request that got no (usable) response. */
export class TransportError extends Error {
  /** What went wrong. */
  readonly kind: TransportFailure;
  constructor(kind: TransportFailure, message: string) {
    super(message);
    this.name = "TransportError";
    this.kind = kind;
  }
}

/** Sends signed requests to peers. */
export interface Transport {
  /**
   * POSTs `req` to `<url>/dht/<rpc>`; resolves with the peer's response (any status) or rejects
   * with a {@link TransportError} after `timeoutMs`.
   */
  send(url: string, rpc: RpcName, req: WireRequest, timeoutMs: number): Promise<WireResponse>;
}

/** Facts about an incoming request that the transport, not the sender, vouches for. */
export interface RequestMeta {
  /** The peer's network address (IP in HTTP; the sender's URL host in simulations). */
  remoteAddr: string;
}

/** Serves incoming requests (implemented by the DHT node). */
export type RpcHandler = (
  rpc: string,
  req: WireRequest,
  meta: RequestMeta,
) => Promise<WireResponse>;
