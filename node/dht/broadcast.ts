/**
 * Tree broadcast of notices down the Kademlia tree (El-Ansary et al. 2003, "Efficient broadcast
 * in structured P2P networks"; Czirkos & Hosszú 2013 for Kademlia).
 *
 * Bucket i of a node covers the subtree of ids that agree with it above bit i and differ at
 * bit i. A node that is handed a notice with height h is responsible for every bucket below h:
 * it forwards to one contact in each non-empty bucket i < h, and that contact, being in bucket
 * i, is responsible for the buckets below i of its own table. Started at height 160 this is a
 * spanning tree: every node receives the notice exactly once.
 *
 * Redundancy `r`: the origin starts r such trees (tree t uses the t-th contact of each bucket,
 * contacts ordered by XOR distance to the origin's id, so the trees are different). Every node
 * forwards each tree once, so in aggregate it forwards to r contacts per bucket below the height
 * it received, and receives about r copies. Forwarding only the first copy of a notice across
 * all trees (the naive reading) makes the number of copies grow with depth; see
 * docs/federation.md for the comparison.
 *
 * The height a receiver gets is not sent: it is the receiver's bucket index in the sender's
 * table, which the receiver computes from the (signature-verified) sender id, so a peer cannot
 * inflate it. Each hop is acknowledged by the RPC response; a batch without an acknowledgement is
 * sent again to the same peer once, then to the next contacts of the same bucket, up to
 * `maxAttempts` sends in all. Batching is
 * Nagle-like: with no batch in flight to a peer, notices go out at the end of the current turn;
 * while one is in flight they accumulate until its acknowledgement, at most `batchMs` (50 ms) or
 * `batchMax` (256) notices.
 *
 * @module
 */
import type { Clock, TimerId } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { bucketIndex, compareDistance, ID_BITS, type NodeId } from "./id.ts";
import { type Notice, noticeKey } from "./notice.ts";
import type { RoutingTable } from "./routing_table.ts";

/** Largest tree index accepted on the wire (so r <= 8). */
export const MAX_TREES = 8;

/** One notice in a batch, and the tree it travels in (null: sent directly, not forwarded). */
export interface BroadcastEntry {
  notice: Notice;
  tree: number | null;
  /** A direct send on a guess (the origin's lookup still running): drop it if not yours. */
  guess?: boolean;
}

/** Options of a {@link Broadcaster}. */
export interface BroadcasterOptions {
  selfId: NodeId;
  table: RoutingTable;
  clock: Clock;
  /** Trees per notice (redundancy). Default 2. */
  r?: number;
  /** Longest a notice waits for its batch to fill. Default 50 ms. */
  batchMs?: number;
  /** Notices per batch. Default 256. */
  batchMax?: number;
  /** Attempts per hop (another contact of the bucket each time if there is one). Default 4. */
  maxAttempts?: number;
  /** Notices remembered for forwarding decisions. Default 100,000. */
  maxTracked?: number;
  /** Sends one batch; resolves true when the peer acknowledged it. */
  send: (peer: Contact, entries: BroadcastEntry[]) => Promise<boolean>;
}

/** Counters of a {@link Broadcaster}. */
export interface BroadcastStats {
  /** Notice copies handed to peers (each retry counts). */
  entriesSent: number;
  /** Batches (RPCs) sent. */
  batchesSent: number;
  /** Batches not acknowledged. */
  batchesFailed: number;
  /** Copies re-sent to another contact after a failed batch. */
  retries: number;
  /** Hops given up after maxAttempts contacts. */
  abandoned: number;
}

interface Pending {
  notice: Notice;
  tree: number | null;
  /** -1 for a direct send. */
  bucket: number;
  attempt: number;
  tried: NodeId[];
  /** Direct sends: where to try next once the peer failed twice. */
  alternates?: Contact[];
  guess?: boolean;
}

interface Outbox {
  peer: Contact;
  entries: Pending[];
  timer: TimerId | null;
}

/**
 * Forwards notices down r Kademlia trees in acknowledged batches.
 *
 * @example
 * ```ts
 * const b = new Broadcaster({ selfId, table, clock, r: 2, send });
 * b.originate(notice);               // at the origin
 * b.received(notice, senderId, tree); // at every other node, after verifying the notice
 * ```
 */
export class Broadcaster {
  /** Trees per notice we originate (may be changed between notices). */
  r: number;
  /**
   * "trees" (default): r trees, each forwarded once per node. "first-copy": the naive reading,
   * kept for comparison in benchmarks: a node forwards only the first copy it gets, to r
   * contacts per bucket below that height.
   */
  mode: "trees" | "first-copy" = "trees";
  readonly batchMs: number;
  readonly batchMax: number;
  readonly maxAttempts: number;
  readonly maxTracked: number;
  readonly stats: BroadcastStats = {
    entriesSent: 0,
    batchesSent: 0,
    batchesFailed: 0,
    retries: 0,
    abandoned: 0,
  };
  #opts: BroadcasterOptions;
  /** Per notice key: the notice and, per tree, the height below which it was forwarded. */
  #tracked = new Map<string, { notice: Notice; heights: number[] }>();
  #outboxes = new Map<NodeId, Outbox>();
  /** Batches in flight per peer. */
  #busy = new Map<NodeId, number>();
  #inflight = 0;
  #stopped = false;
  /** Direct-send peers that may not be in the table (subscribers), for retries. */
  #lastContacts = new Map<NodeId, Contact>();

  /** A broadcaster over `table`. */
  constructor(opts: BroadcasterOptions) {
    this.#opts = opts;
    this.r = opts.r ?? 2;
    if (!Number.isInteger(this.r) || this.r < 1 || this.r > MAX_TREES) {
      throw new RangeError(`Cannot broadcast: r must be 1..${MAX_TREES}, got ${this.r}`);
    }
    this.batchMs = opts.batchMs ?? 50;
    this.batchMax = opts.batchMax ?? 256;
    this.maxAttempts = opts.maxAttempts ?? 4;
    this.maxTracked = opts.maxTracked ?? 100_000;
  }

  /** The verified notice tracked under `key`, if any. */
  tracked(key: string): Notice | undefined {
    return this.#tracked.get(key)?.notice;
  }

  /** Notices waiting in outboxes plus batches in flight. */
  get backlog(): number {
    let n = this.#inflight;
    for (const o of this.#outboxes.values()) n += o.entries.length;
    return n;
  }

  /**
   * Sends `notice` to `peer` alone, in an acknowledged batch, not to be forwarded down a tree
   * (placement at the servers responsible for its tag, and pushes to subscribers). A hop that is
   * not acknowledged is sent again once, then to `alternates` in order.
   */
  direct(peer: Contact, notice: Notice, alternates: Contact[] = [], guess = false): void {
    this.#track(notice);
    this.#enqueue(peer, {
      notice,
      tree: null,
      bucket: -1,
      attempt: 0,
      tried: [peer.id],
      alternates: [...alternates],
      ...(guess ? { guess } : {}),
    });
  }

  /** Remembers a verified notice so later copies are recognised as duplicates. */
  track(notice: Notice): void {
    this.#track(notice);
  }

  /** Starts the broadcast of our own notice: r trees from height 160. */
  originate(notice: Notice): void {
    const state = this.#track(notice);
    if (this.mode === "first-copy") {
      state.heights[0] = ID_BITS;
      this.#fanOut(state.notice, 0, ID_BITS);
      return;
    }
    for (let t = 0; t < this.r; t++) this.#forward(state, t, ID_BITS);
  }

  /**
   * Handles a verified notice that `fromId` sent us in `tree`: forwards it in that tree to the
   * buckets below our bucket index in the sender's table that we have not yet covered.
   */
  received(notice: Notice, fromId: NodeId, tree: number): void {
    if (!Number.isInteger(tree) || tree < 0 || tree >= MAX_TREES) return;
    const height = bucketIndex(fromId, this.#opts.selfId);
    if (height < 0) return;
    const state = this.#track(notice);
    if (this.mode === "first-copy") {
      if (state.heights.length > 0) return;
      state.heights[0] = height;
      this.#fanOut(state.notice, 0, height);
      return;
    }
    this.#forward(state, tree, height);
  }

  /** First-copy mode: r distinct contacts in every bucket below `height`. */
  #fanOut(notice: Notice, from: number, height: number): void {
    for (let b = from; b < height; b++) {
      const tried: NodeId[] = [];
      for (let t = 0; t < this.r; t++) {
        const peer = this.#pick(notice, 0, b, 0, tried);
        if (peer === null || tried.includes(peer.id)) break;
        tried.push(peer.id);
        this.#enqueue(peer, { notice, tree: 0, bucket: b, attempt: 0, tried: [...tried] });
      }
    }
  }

  /** Sends every open batch now. */
  flushAll(): void {
    for (const id of [...this.#outboxes.keys()]) this.#flush(id);
  }

  /** Stops timers; queued notices are dropped. */
  stop(): void {
    this.#stopped = true;
    for (const o of this.#outboxes.values()) {
      if (o.timer !== null) this.#opts.clock.clearTimeout(o.timer);
    }
    this.#outboxes.clear();
  }

  #track(notice: Notice): { notice: Notice; heights: number[] } {
    const key = noticeKey(notice);
    let s = this.#tracked.get(key);
    if (s === undefined) {
      s = { notice, heights: [] };
      if (this.#tracked.size >= this.maxTracked) {
        this.#tracked.delete(this.#tracked.keys().next().value!);
      }
      this.#tracked.set(key, s);
    }
    return s;
  }

  #forward(state: { notice: Notice; heights: number[] }, tree: number, height: number): void {
    const done = state.heights[tree] ?? 0;
    if (height <= done) return;
    state.heights[tree] = height;
    for (let b = done; b < height; b++) {
      const peer = this.#pick(state.notice, tree, b, 0, []);
      if (peer === null) continue;
      this.#enqueue(peer, { notice: state.notice, tree, bucket: b, attempt: 0, tried: [peer.id] });
    }
  }

  /** The contact for `tree` in bucket `b`, skipping `tried`; attempt k takes the (t + k r)-th. */
  #pick(notice: Notice, tree: number, b: number, attempt: number, tried: NodeId[]): Contact | null {
    const entries = this.#opts.table.bucket(b);
    if (entries.length === 0) return null;
    let candidates = entries.filter((e) => !tried.includes(e.contact.id));
    // Every contact of the bucket was tried: send again (a lost message is the likely cause).
    if (candidates.length === 0) candidates = [...entries];
    const key = notice.origin.id;
    candidates.sort((x, y) =>
      (x.failures > 0 ? 1 : 0) - (y.failures > 0 ? 1 : 0) ||
      compareDistance(key, x.contact.id, y.contact.id)
    );
    const index = attempt === 0 ? tree : tree + attempt * this.r;
    return candidates[index % candidates.length]!.contact;
  }

  #lastPeer(p: Pending): Contact | undefined {
    const id = p.tried[p.tried.length - 1]!;
    return this.#lastContacts.get(id) ?? this.#opts.table.get(id)?.contact;
  }

  #enqueue(peer: Contact, p: Pending): void {
    if (this.#stopped) return;
    if (p.bucket === -1) {
      if (this.#lastContacts.size >= 4096) {
        this.#lastContacts.delete(this.#lastContacts.keys().next().value!);
      }
      this.#lastContacts.set(peer.id, peer);
    }
    let o = this.#outboxes.get(peer.id);
    if (o === undefined) {
      o = { peer, entries: [], timer: null };
      this.#outboxes.set(peer.id, o);
    }
    o.entries.push(p);
    if (o.entries.length >= this.batchMax) this.#flush(peer.id);
    else if (o.timer === null) {
      // Nagle-like: with nothing in flight to this peer, send at the end of this turn (notices
      // queued in the same turn share the batch); otherwise wait for the ack, at most batchMs.
      const idle = (this.#busy.get(peer.id) ?? 0) === 0;
      o.timer = this.#opts.clock.setTimeout(() => this.#flush(peer.id), idle ? 0 : this.batchMs);
    }
  }

  #flush(peerId: NodeId): void {
    const o = this.#outboxes.get(peerId);
    if (o === undefined) return;
    this.#outboxes.delete(peerId);
    if (o.timer !== null) this.#opts.clock.clearTimeout(o.timer);
    if (o.entries.length === 0) return;
    const batch = o.entries;
    this.stats.batchesSent++;
    this.stats.entriesSent += batch.length;
    this.#inflight += batch.length;
    this.#busy.set(peerId, (this.#busy.get(peerId) ?? 0) + 1);
    this.#opts.send(
      o.peer,
      batch.map((p) => ({ notice: p.notice, tree: p.tree, ...(p.guess ? { guess: true } : {}) })),
    ).then(
      (ok) => ok,
      () => false,
    ).then((ok) => {
      this.#inflight -= batch.length;
      const busy = (this.#busy.get(peerId) ?? 1) - 1;
      if (busy <= 0) this.#busy.delete(peerId);
      else this.#busy.set(peerId, busy);
      // The ack (or failure) frees the line: send what queued up meanwhile.
      if (busy <= 0 && this.#outboxes.has(peerId)) this.#flush(peerId);
      if (ok) return;
      this.stats.batchesFailed++;
      for (const p of batch) this.#retry(p);
    });
  }

  #retry(p: Pending): void {
    const attempt = p.attempt + 1;
    if (attempt >= this.maxAttempts) {
      this.stats.abandoned++;
      return;
    }
    // The first retry goes to the same peer: if only the acknowledgement was lost it just sees
    // a duplicate, where another contact would broadcast the whole subtree a second time.
    if (p.bucket === -1) {
      const next = attempt === 1 ? undefined : p.alternates?.shift();
      const peer = next ?? this.#lastPeer(p);
      if (peer === undefined) {
        this.stats.abandoned++;
        return;
      }
      this.stats.retries++;
      this.#enqueue(peer, { ...p, attempt, tried: [...p.tried, peer.id] });
      return;
    }
    const same = attempt === 1
      ? this.#opts.table.get(p.tried[p.tried.length - 1]!)?.contact
      : undefined;
    const peer = same ?? this.#pick(p.notice, p.tree ?? 0, p.bucket, attempt, p.tried);
    if (peer === null) {
      this.stats.abandoned++;
      return;
    }
    this.stats.retries++;
    this.#enqueue(peer, { ...p, attempt, tried: [...p.tried, peer.id] });
  }
}
