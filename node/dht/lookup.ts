/**
 * Iterative Kademlia lookups: keep up to `alpha` requests in flight to the closest peers not yet
 * asked, learn closer peers from each answer, and stop once the `k` closest known peers have all
 * answered (or failed). A lookup is an async generator of typed events, so callers can watch
 * progress, collect providers, and stop early by breaking out of the loop.
 *
 * @module
 */
import type { Clock, TimerId } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { compareDistance, type NodeId } from "./id.ts";
import type { ProviderRecord } from "./providers.ts";

/** What one queried peer told us. */
export interface LookupAnswer {
  /** Peers closer to the target that the peer knows. */
  closer: Contact[];
  /** Provider records it holds for the target (get_providers only). */
  providers?: ProviderRecord[];
}

/** Events of a lookup. `depth` counts sequential round trips: seeds are at depth 1. */
export type LookupEvent =
  | { type: "query"; peer: Contact; depth: number }
  | {
    type: "response";
    peer: Contact;
    depth: number;
    closer: Contact[];
    providers: ProviderRecord[];
  }
  | { type: "failure"; peer: Contact; depth: number; error: string }
  | {
    type: "done";
    /** Up to k closest peers that answered, closest first. */
    closest: Contact[];
    /**
     * Up to k closest peers not known to have failed (answered, or still unanswered past the
     * soft timeout), closest first: with hedging, a slow peer may be one of the closest.
     */
    live: Contact[];
    /** Requests sent. */
    queried: number;
    /** Requests that failed. */
    failed: number;
    /** Deepest answering round. */
    rounds: number;
  };

/** Inputs of {@link iterativeLookup}. */
export interface LookupOptions {
  target: NodeId;
  /** Our own id (never queried). */
  selfId: NodeId;
  /** Where to start, usually the routing table's closest contacts. */
  seeds: Contact[];
  /** Result size and termination width. Default 20. */
  k?: number;
  /** Requests in flight. Default 3. */
  alpha?: number;
  /** Asks one peer; rejects on timeout or a bad answer. */
  query: (peer: Contact) => Promise<LookupAnswer>;
  /**
   * Hedging: a query unanswered this long no longer holds a slot or the end of the lookup
   * (its answer is still used if it comes in time). Needs `clock`. Default: off.
   */
  softTimeoutMs?: number;
  clock?: Clock;
}

type State = "new" | "inflight" | "ok" | "failed";
interface Candidate {
  contact: Contact;
  depth: number;
  state: State;
  launchedMs: number;
}

/**
 * Runs a lookup.
 *
 * @example
 * ```ts
 * for await (const ev of iterativeLookup({ target, selfId, seeds, query })) {
 *   if (ev.type === "done") console.log(ev.closest);
 * }
 * ```
 */
export async function* iterativeLookup(opts: LookupOptions): AsyncGenerator<LookupEvent> {
  const k = opts.k ?? 20;
  const alpha = opts.alpha ?? 3;
  const byId = new Map<string, Candidate>();
  const order: Candidate[] = [];
  const add = (c: Contact, depth: number) => {
    if (c.id === opts.selfId || byId.has(c.id)) return;
    const cand: Candidate = { contact: c, depth, state: "new", launchedMs: 0 };
    byId.set(c.id, cand);
    order.push(cand);
  };
  for (const s of opts.seeds) add(s, 1);
  const sort = () => order.sort((a, b) => compareDistance(opts.target, a.contact.id, b.contact.id));
  sort();

  type Done = { cand: Candidate; answer?: LookupAnswer; error?: string };
  const done: Done[] = [];
  let wake: (() => void) | null = null;
  let inflight = 0, queried = 0, failed = 0, rounds = 0;

  const clock = opts.clock;
  const soft = clock !== undefined ? opts.softTimeoutMs : undefined;
  const slow = (c: Candidate) =>
    soft !== undefined && c.state === "inflight" && clock!.now() - c.launchedMs >= soft;
  const launch = (cand: Candidate) => {
    cand.state = "inflight";
    if (clock !== undefined) cand.launchedMs = clock.now();
    inflight++;
    queried++;
    opts.query(cand.contact).then(
      (answer) => done.push({ cand, answer }),
      (e) => done.push({ cand, error: e instanceof Error ? e.message : String(e) }),
    ).finally(() => {
      const w = wake;
      wake = null;
      w?.();
    });
  };

  for (;;) {
    // Launch toward the closest unasked among the k closest still viable.
    let viable = 0;
    const slowNow = soft === undefined ? 0 : order.filter(slow).length;
    for (const cand of order) {
      if (inflight - slowNow >= alpha) break;
      if (cand.state === "failed" || slow(cand)) continue;
      if (viable++ >= k) break;
      if (cand.state === "new") {
        launch(cand);
        yield { type: "query", peer: cand.contact, depth: cand.depth };
      }
    }
    const waiting = inflight - (soft === undefined ? 0 : order.filter(slow).length);
    if (waiting === 0 && done.length === 0) break;
    if (done.length === 0) {
      let timer: TimerId | undefined;
      await new Promise<void>((r) => {
        wake = r;
        if (soft !== undefined) timer = clock!.setTimeout(r, soft);
      });
      if (timer !== undefined) clock!.clearTimeout(timer);
      wake = null;
    }
    while (done.length > 0) {
      const d = done.shift()!;
      inflight--;
      if (d.answer !== undefined) {
        d.cand.state = "ok";
        rounds = Math.max(rounds, d.cand.depth);
        const before = order.length;
        for (const c of d.answer.closer) add(c, d.cand.depth + 1);
        if (order.length !== before) sort();
        yield {
          type: "response",
          peer: d.cand.contact,
          depth: d.cand.depth,
          closer: d.answer.closer,
          providers: d.answer.providers ?? [],
        };
      } else {
        d.cand.state = "failed";
        failed++;
        yield {
          type: "failure",
          peer: d.cand.contact,
          depth: d.cand.depth,
          error: d.error ?? "unknown error",
        };
      }
    }
  }
  const closest = order.filter((c) => c.state === "ok").slice(0, k).map((c) => c.contact);
  const live = order.filter((c) => c.state === "ok" || c.state === "inflight").slice(0, k)
    .map((c) => c.contact);
  yield { type: "done", closest, live, queried, failed, rounds };
}
