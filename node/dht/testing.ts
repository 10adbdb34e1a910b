/**
 * Test helpers (never imported by production code): an in-process swarm of DHT nodes on a {@link MemoryNetwork} in virtual time, for tests and the
 * simulation benchmark. Nodes are real {@link DhtNode}s; only the transport, the clock and
 * (by default) the signature scheme are simulated, with the insecure `simulationScheme`.
 *
 * @module
 */
import * as secp from "@noble/secp256k1";
import { VirtualClock } from "./clock.ts";
import { type NodeId, randomId } from "./id.ts";
import { generateIdentity, type SignatureScheme } from "./identity.ts";
import { MemoryNetwork } from "./memory_transport.ts";
import { DhtNode, type DhtNodeOptions } from "./node.ts";
import type { Notice } from "./notice.ts";
import { MemoryNoticeStore } from "./notice_store.ts";
import { inRegion, regionKey } from "./region.ts";
import { type Random, randomBytes, seededRandom, shuffled } from "./random.ts";
import { toHex } from "../../client/mod.ts";

/**
 * A fake scheme for large in-process simulations ONLY: the "signature" is SHA-256 of the public
 * key and message, so anyone can forge it. It keeps the simulated code path identical while
 * costing microseconds; benchmarks report what the real scheme would have cost.
 *
 * @example
 * ```ts
 * simulationScheme.verify(pub, msg, simulationScheme.sign(sk, msg)); // true only with matching pub
 * ```
 */
export const simulationScheme: SignatureScheme = (() => {
  const pubOf = new WeakMap<Uint8Array, Uint8Array>();
  // Two 32-bit FNV-1a lanes over key and message, spread to 64 bytes: a few nanoseconds per byte
  // in plain JS, where a native hash call costs microseconds of set-up (a third of a 1,000-server
  // run went there).
  const tag = (publicKey: Uint8Array, message: Uint8Array) => {
    let a = 0x811c9dc5, b = 0x01000193 ^ message.length;
    for (const x of publicKey) {
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ x, 0x5bd1e995);
    }
    for (let i = 0; i < message.length; i++) {
      const x = message[i]!;
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ x, 0x5bd1e995);
    }
    const out = new Uint8Array(64);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 16; i++) {
      a = Math.imul(a ^ (a >>> 15), 0x2c1b3c6d);
      b = Math.imul(b ^ (b >>> 13), 0x297a2d39);
      view.setUint32(4 * i, (i & 1) === 0 ? a : b);
    }
    return out;
  };
  return {
    name: "simulation (insecure)",
    sign(secretKey, message) {
      let pub = pubOf.get(secretKey);
      if (pub === undefined) {
        pub = secp.getPublicKey(secretKey, true);
        pubOf.set(secretKey, pub);
      }
      return tag(pub, message);
    },
    verify(publicKey, message, signature) {
      if (signature.length !== 64) return false;
      const expected = tag(publicKey, message);
      return expected.every((b, i) => b === signature[i]);
    },
  };
})();

/** Options of a {@link Swarm}. */
export interface SwarmOptions {
  seed?: number;
  lossRate?: number;
  latencyMs?: { min: number; max: number };
  /** Default: the insecure simulation scheme (see identity.ts). */
  scheme?: SignatureScheme;
  /** Extra node options (k, alpha, broadcastR, rpcTimeoutMs, ...). */
  node?: Partial<DhtNodeOptions>;
}

/** Results of {@link Swarm.measureLookups}. */
export interface LookupMeasurement {
  lookups: number;
  found: number;
  /** Round trips until the target answered, per successful lookup. */
  hops: number[];
  /** RPCs per lookup. */
  rpcs: number[];
}

/** Options of {@link Swarm.measureRegion}. */
export interface RegionRunOptions {
  followers: number;
  bits: number;
  notices: number;
  inFollowed: number;
  rounds: number;
  roundMs: number;
  churn: number;
  lateFollowers: number;
  /** Told how far the run is (after each round and phase), for long runs. */
  onProgress?: (what: string) => void;
}

/** Results of {@link Swarm.measureRegion}. */
export interface RegionMeasurement {
  nodes: number;
  notices: number;
  /** Request and response bytes of every RPC during the run, per live server per message. */
  bytesPerServerPerMessage: number;
  /** Share of all notices each server without followed prefixes received. */
  idleShare: number[];
  /**
   * The same servers' share of the notices with uniformly random tags (the workload sends the
   * rest into followed prefixes, which makes the servers responsible for those regions busier
   * than the design's own unevenness would): what each holds at the end over all published.
   */
  idleUniformShare: number[];
  /**
   * The same servers' expected share: the fraction of {@linkcode regionSamples} random keys for
   * which each is among the `replicas` closest live servers at the end (its XOR region). With a
   * few thousand notices a server expects a handful, so the counts above carry Poisson noise
   * that this does not.
   */
  idleRegionShare: number[];
  /** The keys sampled for {@linkcode RegionMeasurement.idleRegionShare}. */
  regionSamples: number;
  /**
   * Of the uniformly tagged notices the servers following nothing hold at the end, the fraction
   * held by a server that is then among the `replicas` closest live servers to the tag (the rest
   * are copies from before a join moved the region, and placement guesses not refused).
   */
  heldResponsible: number;
  /** For the servers that follow a prefix: their share minus their region's share of notices. */
  followerShare: number[];
  /**
   * The same over the uniformly tagged notices only: each follower's share of them beyond those
   * in its prefix (the workload's followed prefixes make the regions under them denser, and a
   * follower may be responsible for part of one).
   */
  followerUniformShare: number[];
  delivery: number;
  latencyMs: number[];
  backlogMs: number[];
  backlogCompleteness: number;
  left: number;
}

function withPrefix(prefix: string, bits: number, rest: string): string {
  const key = regionKey(prefix, bits);
  let out = "";
  for (let i = 0; i < 40; i++) {
    const bitPos = i * 4;
    const keep = Math.max(0, Math.min(4, bits - bitPos));
    const mask = (0xf << (4 - keep)) & 0xf;
    out += ((parseInt(key[i]!, 16) & mask) | (parseInt(rest[i]!, 16) & ~mask & 0xf)).toString(16);
  }
  return out;
}

function inRegionOf(tag: string, prefix: string, bits: number): boolean {
  return inRegion(tag, regionKey(prefix, bits), bits);
}

/**
 * Keys sampled to measure each server's XOR region ({@linkcode regionShares}): at least this
 * many, and 50 per server in larger swarms (a server of 10,000 at 3 replicas expects 15 in 50,000).
 */
export const REGION_SAMPLES = 50_000;

/** The keys {@linkcode Swarm.measureRegion} samples for `servers` live servers. */
export function regionSamples(servers: number): number {
  return Math.max(REGION_SAMPLES, 50 * servers);
}

/**
 * Each id's share of the keyspace for which it is among the `r` closest of `ids` (by XOR),
 * estimated from `samples` random keys.
 */
export function regionShares(
  ids: readonly NodeId[],
  r: number,
  random: Random,
  samples: number = REGION_SAMPLES,
): Map<NodeId, number> {
  const index = new XorIndex(ids);
  const counts = new Float64Array(ids.length);
  for (let s = 0; s < samples; s++) {
    for (const i of index.closest(BigInt("0x" + randomId(random)), r)) counts[i]!++;
  }
  return new Map(ids.map((id, i) => [id, counts[i]! / samples]));
}

/**
 * Ids sorted as numbers, for the `r` closest to a key by XOR in O(log n): the ids sharing a
 * prefix with the key are one contiguous run of the sorted order, and any id inside the deepest
 * run that still holds `r` of them is closer than every id outside it.
 */
export class XorIndex {
  #sorted: bigint[];
  #at: number[];

  /** Indexes `ids` (answers are positions in `ids`). */
  constructor(ids: readonly NodeId[]) {
    const big = ids.map((id, i) => ({ v: BigInt("0x" + id), i }));
    big.sort((x, y) => (x.v < y.v ? -1 : x.v > y.v ? 1 : 0));
    this.#sorted = big.map((x) => x.v);
    this.#at = big.map((x) => x.i);
  }

  /** Positions of the `r` ids closest to `key`, closest first. */
  closest(key: bigint, r: number): number[] {
    const sorted = this.#sorted;
    let lo = 0, hi = sorted.length;
    for (let bit = 159n; bit >= 0n; bit--) {
      const mask = 1n << bit;
      // Within [lo, hi) the ids agree above `bit`, so those with it clear come first.
      let a = lo, b = hi;
      while (a < b) {
        const m = (a + b) >> 1;
        if ((sorted[m]! & mask) === 0n) a = m + 1;
        else b = m;
      }
      const [nlo, nhi] = (key & mask) === 0n ? [lo, a] : [a, hi];
      if (nhi - nlo < r) break;
      lo = nlo;
      hi = nhi;
    }
    return closestIndexes(sorted.slice(lo, hi), key, r).map((i) => this.#at[lo + i]!);
  }
}

/** The indexes of the `r` ids of `big` closest to `key` by XOR, closest first. */
function closestIndexes(big: readonly bigint[], key: bigint, r: number): number[] {
  const best: bigint[] = [];
  const at: number[] = [];
  for (let i = 0; i < big.length; i++) {
    const d = big[i]! ^ key;
    if (best.length === r && d >= best[r - 1]!) continue;
    let j = Math.min(best.length, r - 1);
    if (best.length < r) {
      best.push(d);
      at.push(i);
    }
    while (j > 0 && best[j - 1]! > d) {
      best[j] = best[j - 1]!;
      at[j] = at[j - 1]!;
      j--;
    }
    best[j] = d;
    at[j] = i;
  }
  return at;
}

/** Results of {@link Swarm.measureBroadcast}. */
export interface BroadcastMeasurement {
  notices: number;
  liveNodes: number;
  /** Fraction of (live node, notice) pairs delivered. */
  coverage: number;
  /** Notice copies sent (retries included) per live node per notice. */
  copiesPerNodePerNotice: number;
  /** Batches (RPCs) per live node per notice. */
  batchesPerNodePerNotice: number;
  /** Virtual ms until the last delivery. */
  durationMs: number;
}

/**
 * A simulated network of DHT nodes.
 *
 * @example
 * ```ts
 * const swarm = new Swarm({ seed: 1 });
 * await swarm.grow(200);
 * const m = await swarm.measureLookups(100);
 * ```
 */
export class Swarm {
  readonly clock: VirtualClock;
  readonly net: MemoryNetwork;
  readonly random: Random;
  readonly nodes: DhtNode[] = [];
  readonly delivered = new Map<NodeId, Set<string>>();
  /** First arrival (virtual ms) of each notice id at each node's `onNotice`. */
  readonly arrivals = new Map<NodeId, Map<string, number>>();
  /** Each node's notice store. */
  readonly held = new Map<NodeId, MemoryNoticeStore>();
  #opts: SwarmOptions;
  #dead = new Set<NodeId>();
  #count = 0;

  /** An empty swarm. */
  constructor(opts: SwarmOptions = {}) {
    this.#opts = opts;
    this.random = seededRandom(opts.seed ?? 1);
    this.clock = new VirtualClock();
    this.net = new MemoryNetwork({
      clock: this.clock,
      random: this.random,
      lossRate: opts.lossRate ?? 0,
      latencyMs: opts.latencyMs ?? { min: 5, max: 25 },
    });
  }

  /** Nodes that are online. */
  live(): DhtNode[] {
    return this.nodes.filter((n) => !this.#dead.has(n.selfId));
  }

  /** Creates one node (not yet joined). */
  create(): DhtNode {
    const i = this.#count++;
    const identity = generateIdentity(
      this.#opts.scheme ?? simulationScheme,
      randomBytes(this.random, 48),
    );
    const url = `mem://n${i}.sim`;
    const delivered = new Set<string>();
    this.delivered.set(identity.id, delivered);
    const arrivals = new Map<string, number>();
    this.arrivals.set(identity.id, arrivals);
    const notices = new MemoryNoticeStore();
    this.held.set(identity.id, notices);
    const node = new DhtNode({
      identity,
      url,
      transport: this.net.transport(url),
      clock: this.clock,
      random: seededRandom(Math.floor(this.random() * 2 ** 32)),
      rpcTimeoutMs: 500,
      notices,
      onNotice: (n) => {
        delivered.add(n.id);
        if (!arrivals.has(n.id)) arrivals.set(n.id, this.clock.now());
      },
      ...this.#opts.node,
    });
    this.net.listen(url, (rpc, req, meta) => node.handle(rpc, req, meta));
    this.nodes.push(node);
    return node;
  }

  /** Adds `count` nodes, each joining through a random live node, `parallel` at a time. */
  async grow(count: number, parallel = 20): Promise<void> {
    let left = count;
    while (left > 0) {
      const batch: DhtNode[] = [];
      const n = Math.min(parallel, left);
      const before = this.live();
      for (let i = 0; i < n; i++) batch.push(this.create());
      left -= n;
      if (before.length === 0) {
        // The first nodes bootstrap off each other.
        await this.clock.run(Promise.all(
          batch.slice(1).map((node) => node.bootstrap([batch[0]!.url])),
        ));
        continue;
      }
      await this.clock.run(Promise.all(batch.map((node) => {
        const via = before[Math.floor(this.random() * before.length)]!;
        return node.bootstrap([via.url]);
      })));
    }
  }

  /** Takes `node` offline without telling anyone (its peers time out). */
  kill(node: DhtNode): void {
    this.#dead.add(node.selfId);
    this.net.unlisten(node.url);
    node.stop();
  }

  /** Kills a random `fraction` of live nodes, sparing `spare`. */
  churn(fraction: number, spare: DhtNode[] = []): DhtNode[] {
    const keep = new Set(spare.map((n) => n.selfId));
    const victims = shuffled(this.live().filter((n) => !keep.has(n.selfId)), this.random)
      .slice(0, Math.round(this.live().length * fraction));
    for (const v of victims) this.kill(v);
    return victims;
  }

  /** Looks up `count` random live node ids from random live nodes. */
  async measureLookups(count: number, parallel = 20): Promise<LookupMeasurement> {
    const out: LookupMeasurement = { lookups: 0, found: 0, hops: [], rpcs: [] };
    const live = this.live();
    for (let done = 0; done < count;) {
      const n = Math.min(parallel, count - done);
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const from = live[Math.floor(this.random() * live.length)]!;
        let target = live[Math.floor(this.random() * live.length)]!;
        while (target === from) target = live[Math.floor(this.random() * live.length)]!;
        jobs.push((async () => {
          let hops = -1, rpcs = 0;
          for await (const ev of from.lookup(target.selfId)) {
            if (ev.type === "response" && ev.peer.id === target.selfId && hops < 0) {
              hops = ev.depth;
            }
            if (
              ev.type === "response" && hops < 0 && ev.closer.some((c) => c.id === target.selfId)
            ) {
              // The target is known after this answer; it is contacted in the next round.
              hops = ev.depth + 1;
            }
            if (ev.type === "done") rpcs = ev.queried;
          }
          out.lookups++;
          out.rpcs.push(rpcs);
          if (hops >= 0) {
            out.found++;
            out.hops.push(hops);
          }
        })());
      }
      await this.clock.run(Promise.all(jobs));
      done += n;
    }
    return out;
  }

  /**
   * Publishes `count` notices from random live origins and runs until the broadcast settles.
   */
  async measureBroadcast(count: number): Promise<BroadcastMeasurement> {
    const live = this.live();
    const before = live.reduce(
      (acc, n) => {
        acc.copies += n.broadcaster.stats.entriesSent;
        acc.batches += n.broadcaster.stats.batchesSent;
        return acc;
      },
      { copies: 0, batches: 0 },
    );
    const published: { notice: Notice; origin: NodeId }[] = [];
    const startMs = this.clock.now();
    const nowS = Math.floor(startMs / 1000);
    for (let i = 0; i < count; i++) {
      const origin = live[Math.floor(this.random() * live.length)]!;
      const payload = randomBytes(this.random, 32);
      const id = toHex(randomBytes(this.random, 32));
      const notice = await origin.publish({
        id,
        tag: randomId(this.random),
        size: payload.length,
        expiresAt: nowS + 3600,
        createdAtMs: this.clock.now(),
      });
      this.delivered.get(origin.selfId)!.add(notice.id);
      published.push({ notice, origin: origin.selfId });
    }
    await this.clock.runUntilIdle({ untilMs: startMs + 120_000 });
    let hits = 0;
    for (const n of live) {
      const got = this.delivered.get(n.selfId)!;
      for (const p of published) if (got.has(p.notice.id)) hits++;
    }
    const after = live.reduce(
      (acc, n) => {
        acc.copies += n.broadcaster.stats.entriesSent;
        acc.batches += n.broadcaster.stats.batchesSent;
        return acc;
      },
      { copies: 0, batches: 0 },
    );
    const denom = live.length * count;
    return {
      notices: count,
      liveNodes: live.length,
      coverage: hits / denom,
      copiesPerNodePerNotice: (after.copies - before.copies) / denom,
      batchesPerNodePerNotice: (after.batches - before.batches) / denom,
      durationMs: this.clock.now() - startMs,
    };
  }

  /**
   * Region placement under load and churn: `followers` servers each follow a random prefix of
   * `bits` bits; `notices` notices from random origins (a share `inFollowed` of them under a
   * followed prefix, the rest random) are published in `rounds` rounds, with `churn` of the
   * servers replaced (left without notice, new ones joined) spread over the rounds; finally
   * `lateFollowers` fresh servers follow prefixes that already hold notices (the backlog).
   */
  async measureRegion(opts: RegionRunOptions): Promise<RegionMeasurement> {
    const bits = opts.bits;
    const live0 = this.live();
    const followers = shuffled(live0, this.random).slice(0, opts.followers);
    const prefixes = followers.map(() => randomId(this.random).slice(0, 10));
    const followedSet = new Set(followers.map((f) => f.selfId));
    await this.clock.run(Promise.all(followers.map((f, i) => f.follow(prefixes[i]!, bits))));
    const bytes0 = this.net.stats.bytes;
    const accepted0 = new Map(this.nodes.map((n) => [n.selfId, n.stats.noticesAccepted]));
    const published: {
      id: string;
      tag: string;
      atMs: number;
      prefix: number | null;
      origin: NodeId;
    }[] = [];
    const nowS = () => Math.floor(this.clock.now() / 1000);
    const rounds = opts.rounds;
    const perRound = Math.ceil(opts.notices / rounds);
    const churnPerRound = Math.round((this.live().length * opts.churn) / rounds);
    const left = new Set<NodeId>();
    for (let r = 0; r < rounds; r++) {
      if (churnPerRound > 0 && r > 0) {
        for (const v of this.churn(churnPerRound / this.live().length, followers)) {
          left.add(v.selfId);
        }
        await this.grow(churnPerRound);
      }
      const live = this.live();
      const jobs: Promise<unknown>[] = [];
      for (let i = 0; i < perRound && published.length < opts.notices; i++) {
        const origin = live[Math.floor(this.random() * live.length)]!;
        const followed = this.random() < opts.inFollowed;
        const p = followed ? Math.floor(this.random() * prefixes.length) : null;
        const tag = p === null
          ? randomId(this.random)
          : withPrefix(prefixes[p]!, bits, randomId(this.random));
        const id = toHex(randomBytes(this.random, 32));
        published.push({ id, tag, atMs: this.clock.now(), prefix: p, origin: origin.selfId });
        jobs.push(origin.publishMany([{
          id,
          tag,
          size: 1024,
          expiresAt: nowS() + 3600,
          createdAtMs: this.clock.now(),
        }]));
      }
      await this.clock.run(Promise.all(jobs));
      await this.clock.runUntilIdle({ untilMs: this.clock.now() + opts.roundMs });
      opts.onProgress?.(`round ${r + 1} of ${rounds}: ${published.length} notices published`);
    }
    await this.clock.runUntilIdle({ untilMs: this.clock.now() + 10_000 });
    // Received: new notices each server accepted (stored), over all published.
    const total = published.length;
    const idle: number[] = [], busy: number[] = [], busyUniform: number[] = [];
    const inPrefix = new Map(followers.map((f, i) => [
      f.selfId,
      published.filter((m) => inRegionOf(m.tag, prefixes[i]!, bits)).length / total,
    ]));
    const liveIds = this.live().map((n) => n.selfId);
    const liveIndex = new XorIndex(liveIds);
    const replicas = this.#opts.node?.noticeReplicas ?? 3;
    const samples = regionSamples(liveIds.length);
    const regions = regionShares(liveIds, replicas, seededRandom(0x5eed), samples);
    const idleRegion: number[] = [];
    const uniform = new Set(published.filter((m) => m.prefix === null).map((m) => m.id));
    const idleUniform: number[] = [];
    const responsible = new Map<string, Set<NodeId>>();
    for (const m of published) {
      if (!uniform.has(m.id)) continue;
      const near = liveIndex.closest(BigInt("0x" + m.tag), replicas);
      responsible.set(m.id, new Set(near.map((i) => liveIds[i]!)));
    }
    let heldUniform = 0, heldByResponsible = 0;
    for (const n of this.live()) {
      const got = (n.stats.noticesAccepted - (accepted0.get(n.selfId) ?? 0)) / total;
      // A follower's share beyond the traffic of the region it follows.
      if (followedSet.has(n.selfId)) {
        busy.push(got - inPrefix.get(n.selfId)!);
        const p = prefixes[followers.indexOf(n)]!;
        const seen = new Set(this.delivered.get(n.selfId)!);
        for (const x of this.held.get(n.selfId)!.all()) seen.add(x.id);
        let beyond = 0;
        for (const m of published) {
          if (m.prefix === null && seen.has(m.id) && !inRegionOf(m.tag, p, bits)) beyond++;
        }
        busyUniform.push(uniform.size === 0 ? 0 : beyond / uniform.size);
      } else {
        idle.push(got);
        const held = this.held.get(n.selfId)!.all().filter((x) => uniform.has(x.id));
        idleUniform.push(uniform.size === 0 ? 0 : held.length / uniform.size);
        heldUniform += held.length;
        for (const x of held) if (responsible.get(x.id)?.has(n.selfId)) heldByResponsible++;
        idleRegion.push(regions.get(n.selfId) ?? 0);
      }
    }
    opts.onProgress?.("measured what each server holds");
    // Delivery to followers.
    const latencies: number[] = [];
    let expected = 0, delivered = 0;
    for (const [i, f] of followers.entries()) {
      const arrivals = this.arrivals.get(f.selfId)!;
      for (const m of published) {
        if (m.prefix === null || !inRegionOf(m.tag, prefixes[i]!, bits)) continue;
        // A message whose origin left is gone with its body (unless copies were kept); one the
        // follower stored itself is a row there already.
        if (this.#dead.has(m.origin) || m.origin === f.selfId) continue;
        expected++;
        const at = arrivals.get(m.id);
        if (at !== undefined) {
          delivered++;
          latencies.push(at - m.atMs);
        }
      }
    }
    // Backlog: fresh servers follow prefixes that hold notices.
    const backlogMs: number[] = [];
    let backlogExpected = 0, backlogGot = 0;
    const late: DhtNode[] = [];
    for (let i = 0; i < opts.lateFollowers; i++) late.push(this.create());
    const via = this.live().filter((n) => !late.includes(n));
    await this.clock.run(Promise.all(late.map((n) => n.bootstrap([via[0]!.url]))));
    await this.clock.run(Promise.all(late.map(async (n, i) => {
      const p = i % prefixes.length;
      const start = this.clock.now();
      await n.follow(prefixes[p]!, bits);
      backlogMs.push(this.clock.now() - start);
      const got = this.delivered.get(n.selfId)!;
      for (const m of published) {
        if (m.prefix === null || !inRegionOf(m.tag, prefixes[p]!, bits)) continue;
        if (this.#dead.has(m.origin)) continue;
        backlogExpected++;
        if (got.has(m.id)) backlogGot++;
      }
    })));
    return {
      nodes: this.live().length,
      notices: total,
      bytesPerServerPerMessage: (this.net.stats.bytes - bytes0) / (this.live().length * total),
      idleShare: idle,
      idleUniformShare: idleUniform,
      idleRegionShare: idleRegion,
      regionSamples: samples,
      heldResponsible: heldUniform === 0 ? 1 : heldByResponsible / heldUniform,
      followerShare: busy,
      followerUniformShare: busyUniform,
      delivery: expected === 0 ? 1 : delivered / expected,
      latencyMs: latencies,
      backlogMs,
      backlogCompleteness: backlogExpected === 0 ? 1 : backlogGot / backlogExpected,
      left: left.size,
    };
  }

  /** Stops every node. */
  stop(): void {
    for (const n of this.nodes) n.stop();
  }
}

/**
 * The p-th percentile (0..100) of `values` (nearest rank).
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
