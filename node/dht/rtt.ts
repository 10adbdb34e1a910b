/**
 * Round-trip times of DHT requests per peer: a {@link Transport} wrapper that times every
 * request that got a response and keeps a smoothed RTT per peer URL (the estimator of
 * RFC 6298 §2: `srtt = 7/8 srtt + 1/8 sample`, the first sample taken as is). Bulk requests
 * (`fetch`, `catch_up`) are not timed: their time is mostly transfer, not latency. Failed
 * requests and timeouts record nothing. Read-only for everyone but the transport; the console
 * shows it on the Network page.
 *
 * @module
 */
import type { RpcName, WireRequest, WireResponse } from "./envelope.ts";
import type { Transport } from "./transport.ts";

/** RTT state of one peer. */
export interface PeerRtt {
  /** Smoothed RTT in ms. */
  srttMs: number;
  /** Last sample in ms. */
  lastMs: number;
  /** Samples taken. */
  samples: number;
}

/** Options for {@linkcode RttTransport}. */
export interface RttTransportOptions {
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
  /** Most peers tracked; the least recently measured is dropped beyond it. Default 10,000. */
  maxPeers?: number;
}

/** RPCs whose time is mostly transfer, not timed. */
const UNTIMED: ReadonlySet<string> = new Set(["fetch", "catch_up"]);

/**
 * A transport that measures what it sends through `inner`.
 *
 * @example
 * ```ts
 * const transport = new RttTransport(new HttpTransport());
 * // ... after some requests:
 * transport.rtt("https://peer.example")?.srttMs;
 * ```
 */
export class RttTransport implements Transport {
  readonly #inner: Transport;
  readonly #now: () => number;
  readonly #maxPeers: number;
  readonly #peers = new Map<string, PeerRtt>();

  constructor(inner: Transport, opts: RttTransportOptions = {}) {
    this.#inner = inner;
    this.#now = opts.now ?? (() => performance.now());
    this.#maxPeers = opts.maxPeers ?? 10_000;
  }

  /** Sends through the inner transport, timing requests that get a response. */
  async send(
    url: string,
    rpc: RpcName,
    req: WireRequest,
    timeoutMs: number,
  ): Promise<WireResponse> {
    const start = this.#now();
    const res = await this.#inner.send(url, rpc, req, timeoutMs);
    if (!UNTIMED.has(rpc)) this.record(url, this.#now() - start);
    return res;
  }

  /** Adds one sample for `url` (exposed for tests). */
  record(url: string, sampleMs: number): void {
    if (!(sampleMs >= 0) || !Number.isFinite(sampleMs)) return;
    const old = this.#peers.get(url);
    if (old !== undefined) this.#peers.delete(url); // re-insert: most recent last
    else if (this.#peers.size >= this.#maxPeers) {
      this.#peers.delete(this.#peers.keys().next().value!);
    }
    this.#peers.set(url, {
      srttMs: old === undefined ? sampleMs : old.srttMs + (sampleMs - old.srttMs) / 8,
      lastMs: sampleMs,
      samples: (old?.samples ?? 0) + 1,
    });
  }

  /** The RTT state of the peer at `url`, if it ever answered a timed request. */
  rtt(url: string): PeerRtt | undefined {
    return this.#peers.get(url);
  }
}
