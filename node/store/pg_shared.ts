/**
 * Several node processes on one PostgreSQL database: what they agree on through the database.
 *
 * **Visibility watermark.** Sequence numbers come from one PostgreSQL sequence, but concurrent
 * transactions commit in any order: a reader that returned seq 11 (committed) while seq 10 is
 * still being committed by another process would move a cursor past 10 for good. So every batch
 * transaction first publishes a *mark*: a shared, transaction-scoped advisory lock whose 64-bit
 * key holds a number no higher than any sequence number the transaction will draw (the
 * sequence's current value plus one, read in the same statement that takes the lock). The lock
 * is visible in `pg_locks` from before the first number is drawn until the commit has made the
 * rows visible (PostgreSQL releases locks after it marks the transaction committed), and it is
 * released by PostgreSQL itself when the transaction aborts or its process dies. A reader then
 * computes the watermark:
 *
 * 1. `L` = the sequence's last value (every number drawn so far is `<= L`);
 * 2. `M` = the smallest mark in `pg_locks`, read after `L` (in the same statement);
 * 3. `W = min(L, M - 1)`.
 *
 * Every number `s <= W` is final: it was drawn before step 1, so its transaction's mark existed
 * before step 2; that mark is `<= s`, so if it were still held `W` would be below `s`; the
 * transaction has therefore committed (its rows are visible to any later snapshot) or aborted.
 * Queries return rows with `seq <= W` only ({@linkcode RangeQuery.maxSeq}), so a cursor never
 * passes a row that commits later. The watermark only rises (`max` with the previous one: a
 * watermark once true stays true).
 *
 * **Wake-ups.** After each commit a process sends `NOTIFY subspace_commits, '<max seq>'` (from
 * its session connection, with `synchronous_commit = off`: a notification needs visibility, not
 * durability, and sending it outside the batch transaction keeps PostgreSQL's notify lock off
 * the commit path). Every process listens; a notification, a local commit or the fallback poll
 * (every {@linkcode POLL_MS}, and every {@linkcode DOWN_POLL_MS} while the listening connection
 * is down) refreshes the watermark, and when it rises from `a` to `b` the tags of the rows in
 * `(a, b]` are read and handed to the long-poll hub. Waking by the watermark rather than by the
 * notification's tags means a waiter is woken when its rows can be returned, not when they
 * commit ahead of an earlier slow batch. A process alone on the database (no other session
 * connection in `pg_stat_activity`, counted on every fallback poll) sends no notifications; one
 * that starts listening announces itself with `NOTIFY subspace_commits, 'join'`.
 *
 * **Background jobs.** {@linkcode PgShared.leads} takes a session-level advisory lock per job
 * name on the session connection and keeps it: one process runs the sweeper, the key rotation,
 * the invoice polling and so on. When that process dies its connection closes, PostgreSQL
 * releases the lock, and the next tick of the job in another process takes it.
 *
 * @module
 */
import pg from "pg";

/** `application_name` of the session connections (for `pg_stat_activity`). */
export const SESSION_NAME = "subspace-session";
/** The channel every process listens on. */
export const COMMITS_CHANNEL = "subspace_commits";
/** The payload a process sends on the channel when it starts listening. */
export const JOIN_PAYLOAD = "join";
/** High 16 bits of the marks' lock keys (the bigint form); the low 48 bits hold a sequence number. */
export const MARK_PREFIX = 0x5355;
/** First key of the two-integer advisory locks that name background jobs. */
export const JOB_LOCK_CLASS = 0x5356;
/** Watermark refresh while the listening connection is up (a missed notification costs this). */
export const POLL_MS = 2_000;
/** Watermark refresh while the listening connection is down. */
export const DOWN_POLL_MS = 250;
/** Most tags read for one rise of the watermark; past it every waiter is woken instead. */
export const MAX_WAKE_TAGS = 20_000;

/**
 * The statement a batch transaction runs before it inserts: publishes its mark.
 *
 * @example
 * ```ts
 * const mark = markSql("public.messages_seq_seq"); // run it first in the batch transaction
 * ```
 */
export function markSql(sequence: string): string {
  const name = `'${sequence.replaceAll("'", "''")}'`;
  return `SELECT pg_advisory_xact_lock_shared((${MARK_PREFIX}::bigint << 48) + ` +
    `coalesce(pg_sequence_last_value(${name}::regclass), 0) + 1)`;
}

/**
 * Steps 1 and 2 in one round trip: the marks are read by a subquery correlated with the row that
 * holds the sequence's value (`OFFSET 0` keeps that row a separate plan node, and the subquery's
 * one-time filter on it runs after it), so PostgreSQL reads `pg_locks` after the sequence.
 */
const WATERMARK_SQL = `SELECT s.l, (
    SELECT min(((classid::bigint << 32) | objid::bigint) - (${MARK_PREFIX}::bigint << 48))
    FROM pg_locks
    WHERE locktype = 'advisory' AND objsubid = 1 AND classid::bigint >> 16 = ${MARK_PREFIX}
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND s.l IS NOT NULL
  ) AS m
  FROM (SELECT coalesce(pg_sequence_last_value($1::regclass), 0) AS l OFFSET 0) s`;

/**
 * Server settings for every connection a node opens: a process whose machine vanishes (no FIN)
 * would otherwise keep its open batch transaction — and with it the watermark — and its job
 * locks until the kernel's keepalive gives up, two hours by default. With these, PostgreSQL ends
 * a transaction left idle for 30 s and notices a dead peer in about 25 s. Left out when the URL
 * sets `options` itself.
 */
export const CONNECTION_OPTIONS = "-c idle_in_transaction_session_timeout=30000 " +
  "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3";

/** `pg` client settings for `url`: {@linkcode CONNECTION_OPTIONS} unless the URL has its own. */
export function connectionConfig(url: string): pg.ClientConfig {
  const own = new URL(url).searchParams.has("options");
  return {
    connectionString: url,
    keepAlive: true,
    ...(own ? {} : { options: CONNECTION_OPTIONS }),
  };
}

/** What {@linkcode PgShared} logs through. */
export interface SharedLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Options for {@linkcode PgShared.open}. */
export interface PgSharedOptions {
  /** The pool the store uses (watermark and tag reads). */
  pool: pg.Pool;
  /** Connection string for the session connection (LISTEN, job locks, NOTIFY). */
  url: string;
  /** The `messages.seq` sequence (`pg_get_serial_sequence`). */
  sequence: string;
  log?: SharedLog;
}

/** Stable 31-bit hash of a job name (FNV-1a), the second key of its advisory lock. */
export function jobKey(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

/** The shared coordination of one process with the others on its PostgreSQL database. */
export class PgShared {
  #o: PgSharedOptions;
  readonly #log: SharedLog | undefined;
  #seq = 0;
  #session: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #held = new Set<string>();
  #listeners: ((tags: readonly Uint8Array[] | "all") => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The refresh running now, and the one queued to start after it. */
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #notifyMax = 0;
  /** No other process listens: commits need no notification. */
  #alone = false;
  #stale = false;
  #eager: () => boolean = () => true;
  #notifying = false;
  /** Counters for metrics and tests. */
  readonly stats = { notificationsSent: 0, notificationsHeard: 0, refreshes: 0, reconnects: 0 };

  private constructor(o: PgSharedOptions) {
    this.#o = o;
    this.#log = o.log;
  }

  /** Computes the first watermark and connects the session (retried in the background). */
  static async open(o: PgSharedOptions): Promise<PgShared> {
    const s = new PgShared(o);
    await s.refresh();
    await s.#connect().catch(() => {});
    s.#arm();
    return s;
  }

  /** Every sequence number up to this one is final (committed or never will be). */
  get watermark(): number {
    return this.#seq;
  }

  /** True while the listening connection is up. */
  get listening(): boolean {
    return this.#session !== undefined;
  }

  /**
   * Calls `fn` with the tags of rows that became visible (all of them, in any process), or
   * `"all"` when there were too many to read: wake every waiter.
   */
  onVisible(fn: (tags: readonly Uint8Array[] | "all") => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Says whether anyone here is waiting for rows (long polls): then a commit anywhere refreshes
   * the watermark at once, to wake them; otherwise it only marks the watermark stale, and the
   * next reader refreshes it ({@linkcode fresh}). Under ingest with nobody waiting this keeps
   * each process from re-reading the watermark after every commit of every other process.
   */
  setEager(eager: () => boolean): void {
    this.#eager = eager;
  }

  /** A batch up to `maxSeq` committed here: tells the other processes. */
  committed(maxSeq: number): void {
    this.#notify(maxSeq);
    this.#poke();
  }

  /** Something committed somewhere: refresh now if someone waits, else on the next read. */
  #poke(): void {
    this.#stale = true;
    if (this.#eager()) this.refresh().catch(() => {});
  }

  /**
   * Resolves once the watermark covers every commit this process has heard of (at once when
   * nothing was heard since the last refresh). Readers call it before they query.
   */
  fresh(): Promise<void> {
    return this.#stale ? this.refresh() : Promise.resolve();
  }

  /** Refreshes the watermark: the returned promise is for a refresh that starts after the call. */
  refresh(): Promise<void> {
    if (this.#running === undefined) {
      this.#running = this.#refreshOnce().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    this.#queued ??= this.#running.catch(() => {}).then(() => {
      this.#queued = undefined;
      return this.refresh();
    });
    return this.#queued;
  }

  async #refreshOnce(): Promise<void> {
    this.stats.refreshes++;
    this.#stale = false;
    const { pool, sequence } = this.#o;
    const row = (await pool.query(WATERMARK_SQL, [sequence])).rows[0];
    const l = Number(row.l);
    const m = row.m;
    const w = m === null ? l : Math.min(l, Number(m) - 1);
    if (w <= this.#seq) return;
    const from = this.#seq;
    this.#seq = w;
    // Nobody waits: nobody to wake (a waiter registers before it queries, so it sees these).
    if (this.#listeners.length === 0 || !this.#eager()) return;
    const rows = (await pool.query(
      "SELECT tag FROM messages WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
      [from, w, MAX_WAKE_TAGS + 1],
    )).rows as { tag: Uint8Array }[];
    const tags = rows.length > MAX_WAKE_TAGS ? "all" : rows.map((r) => new Uint8Array(r.tag));
    for (const l of this.#listeners) l(tags);
  }

  #notify(maxSeq: number): void {
    // Alone on the database: nobody to tell (a process that joins says so on the channel).
    if (this.#alone) return;
    if (maxSeq > this.#notifyMax) this.#notifyMax = maxSeq;
    if (this.#notifying) return;
    this.#notifying = true;
    // One notification for every commit that finished while the previous one was being sent.
    queueMicrotask(async () => {
      try {
        while (this.#session !== undefined && this.#notifyMax > 0) {
          const max = this.#notifyMax;
          this.#notifyMax = 0;
          await this.#session.query("SELECT pg_notify($1, $2)", [COMMITS_CHANNEL, String(max)]);
          this.stats.notificationsSent++;
        }
      } catch {
        // The session dropped: the others fall back to polling until it is back.
      } finally {
        this.#notifyMax = 0;
        this.#notifying = false;
      }
    });
  }

  /**
   * True while this process runs the background job `name`: takes its lock if no process holds
   * it. Keep calling it on every tick; a process that lost its session loses its jobs.
   */
  async leads(name: string): Promise<boolean> {
    if (this.#held.has(name)) return true;
    const session = this.#session;
    if (session === undefined) return false;
    try {
      const r = await session.query("SELECT pg_try_advisory_lock($1, $2) AS ok", [
        JOB_LOCK_CLASS,
        jobKey(name),
      ]);
      if (r.rows[0].ok !== true || this.#session !== session) return false;
      this.#held.add(name);
      this.#log?.info("running a background job in this process", { job: name });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The value of `name` that every process agrees on: the stored one, or, for the first process
   * to ask, what `init` returns (stored at once; a process that loses the race gets the winner's).
   */
  async value(name: string, init: () => Promise<string>): Promise<string> {
    const read = async () =>
      (await this.#o.pool.query("SELECT value FROM shared_values WHERE name = $1", [name]))
        .rows[0]?.value as string | undefined;
    const stored = await read();
    if (stored !== undefined) return stored;
    await this.#o.pool.query(
      "INSERT INTO shared_values (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
      [name, await init()],
    );
    const won = await read();
    if (won === undefined) throw new Error(`Cannot store the shared value ${name}`);
    return won;
  }

  /** A shared value, or `undefined`. */
  async get(name: string): Promise<string | undefined> {
    return (await this.#o.pool.query("SELECT value FROM shared_values WHERE name = $1", [name]))
      .rows[0]?.value;
  }

  /** Sets a shared value (the last writer wins: for caches such as the routing table). */
  async set(name: string, value: string): Promise<void> {
    await this.#o.pool.query(
      `INSERT INTO shared_values (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [name, value],
    );
  }

  /** Jobs this process holds. */
  get jobs(): readonly string[] {
    return [...this.#held];
  }

  #connect(): Promise<void> {
    this.#connecting ??= (async () => {
      const c = new pg.Client({ ...connectionConfig(this.#o.url), application_name: SESSION_NAME });
      c.on("error", () => this.#lost(c));
      c.on("end", () => this.#lost(c));
      let pid = 0;
      c.on("notification", (n) => {
        if (n.channel !== COMMITS_CHANNEL) return;
        if (n.payload === JOIN_PAYLOAD) {
          if (n.processId !== pid) this.#alone = false;
          return;
        }
        this.stats.notificationsHeard++;
        if (Number(n.payload) > this.#seq) this.#poke();
      });
      try {
        await c.connect();
        await c.query("SET synchronous_commit = off");
        await c.query(`LISTEN ${COMMITS_CHANNEL}`);
        pid = Number((await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
      } catch (err) {
        c.end().catch(() => {});
        throw err;
      }
      if (this.#closed) {
        await c.end().catch(() => {});
        return;
      }
      this.#session = c;
      await this.#countPeers().catch(() => {});
      await c.query("SELECT pg_notify($1, $2)", [COMMITS_CHANNEL, JOIN_PAYLOAD]).catch(() => {});
      // Commits made while the session was down were not announced; catch up now.
      this.refresh().catch(() => {});
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #lost(c: pg.Client): void {
    if (this.#session !== c) return;
    this.#session = undefined;
    if (this.#held.size > 0) {
      this.#log?.warn("lost the database session: background jobs stop here until it is back", {
        jobs: [...this.#held],
      });
    }
    this.#held.clear();
    c.end().catch(() => {});
  }

  /** The fallback poll and the reconnection loop. */
  #arm(): void {
    if (this.#closed) return;
    const up = this.#session !== undefined;
    this.#timer = setTimeout(async () => {
      if (this.#session === undefined) {
        this.stats.reconnects++;
        await this.#connect().catch(() => {});
      }
      await this.refresh().catch(() => {});
      await this.#countPeers().catch(() => {});
      this.#arm();
    }, up ? POLL_MS : DOWN_POLL_MS);
  }

  /** Whether other processes listen on this database (their session connections). */
  async #countPeers(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    const r = await session.query(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
      [SESSION_NAME],
    );
    this.#alone = Number(r.rows[0].n) === 0;
  }

  /** True when no other process listens on the database (then commits are not announced). */
  get alone(): boolean {
    return this.#alone;
  }

  /** Ends the session (its job locks go with it) and stops polling. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#connecting?.catch(() => {});
    const s = this.#session;
    this.#session = undefined;
    this.#held.clear();
    await this.#running?.catch(() => {});
    await this.#queued?.catch(() => {});
    await s?.end().catch(() => {});
  }
}
