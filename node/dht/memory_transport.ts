/**
 * An in-memory network for simulations: nodes register a handler under their URL; requests and
 * responses each take a random latency and may be lost; everything runs on a {@link Clock}, so
 * with a `VirtualClock` a thousand-node swarm runs without real waiting.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import type { RpcName, WireRequest, WireResponse } from "./envelope.ts";
import type { Random } from "./random.ts";
import { type RpcHandler, type Transport, TransportError } from "./transport.ts";

/** Options of a {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  clock: Clock;
  random: Random;
  /** Probability that each leg (request, response) is lost. Default 0. */
  lossRate?: number;
  /** One-way latency bounds in ms, drawn uniformly. Default 5..25. */
  latencyMs?: { min: number; max: number };
}

/** Counters of a {@link MemoryNetwork}. */
export interface MemoryNetworkStats {
  /** Requests sent. */
  requests: number;
  /** Requests or responses dropped by simulated loss. */
  lost: number;
  /** Requests to URLs nobody listens on. */
  unreachable: number;
  /** Request and response body bytes. */
  bytes: number;
  /** Requests by RPC name. */
  byRpc: Record<string, number>;
}

/**
 * A simulated network.
 *
 * @example
 * ```ts
 * const net = new MemoryNetwork({ clock, random: seededRandom(1), lossRate: 0.05 });
 * net.listen("mem://a", node.handle);
 * const transport = net.transport();
 * ```
 */
export class MemoryNetwork {
  readonly clock: Clock;
  readonly random: Random;
  /** Loss probability per leg; may be changed while running. */
  lossRate: number;
  latencyMs: { min: number; max: number };
  readonly stats: MemoryNetworkStats = {
    requests: 0,
    lost: 0,
    unreachable: 0,
    bytes: 0,
    byRpc: {},
  };
  #handlers = new Map<string, RpcHandler>();

  /** A network with no nodes. */
  constructor(opts: MemoryNetworkOptions) {
    this.clock = opts.clock;
    this.random = opts.random;
    this.lossRate = opts.lossRate ?? 0;
    this.latencyMs = opts.latencyMs ?? { min: 5, max: 25 };
  }

  /** Serves requests to `url` with `handler`. */
  listen(url: string, handler: RpcHandler): void {
    this.#handlers.set(url, handler);
  }

  /** Stops serving `url` (the node went offline: its peers will time out). */
  unlisten(url: string): void {
    this.#handlers.delete(url);
  }

  /** Whether something serves `url`. */
  isListening(url: string): boolean {
    return this.#handlers.has(url);
  }

  /** Resets the counters. */
  resetStats(): void {
    this.stats.requests = 0;
    this.stats.lost = 0;
    this.stats.unreachable = 0;
    this.stats.bytes = 0;
    this.stats.byRpc = {};
  }

  /** A transport that sends over this network from the node at `fromUrl`. */
  transport(fromUrl: string): Transport {
    return { send: (url, rpc, req, timeoutMs) => this.#send(fromUrl, url, rpc, req, timeoutMs) };
  }

  #latency(): number {
    const { min, max } = this.latencyMs;
    return Math.round(min + this.random() * (max - min));
  }

  #send(
    fromUrl: string,
    url: string,
    rpc: RpcName,
    req: WireRequest,
    timeoutMs: number,
  ): Promise<WireResponse> {
    this.stats.requests++;
    this.stats.byRpc[rpc] = (this.stats.byRpc[rpc] ?? 0) + 1;
    this.stats.bytes += req.body.length;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = this.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new TransportError("timeout", `no response from ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (res: WireResponse) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        resolve(res);
      };
      if (this.random() < this.lossRate) {
        this.stats.lost++;
        return;
      }
      this.clock.setTimeout(() => {
        const handler = this.#handlers.get(url);
        if (handler === undefined) {
          this.stats.unreachable++;
          return; // a dead node: the caller times out
        }
        const remoteAddr = hostOf(fromUrl);
        handler(rpc, { headers: { ...req.headers }, body: req.body }, { remoteAddr }).then(
          (res) => {
            this.stats.bytes += res.body.length;
            if (this.random() < this.lossRate) {
              this.stats.lost++;
              return;
            }
            this.clock.setTimeout(() => finish(res), this.#latency());
          },
          () => {/* a crashing handler looks like a dead node */},
        );
      }, this.#latency());
    });
  }
}

const hosts = new Map<string, string>();
function hostOf(url: string): string {
  let h = hosts.get(url);
  if (h === undefined) {
    try {
      h = new URL(url).hostname;
    } catch {
      h = url;
    }
    hosts.set(url, h);
  }
  return h;
}
