/**
 * `SubspaceClient`: what a wallet embeds to talk to Subspace servers. It seals payloads to
 * stealth addresses and posts them (`send`), and long-polls one or more servers for envelopes
 * under its prefix, trial-decrypts them and yields the ones addressed to it (`watch`), with a
 * persisted cursor per server, retries with backoff, an optional proxy (SOCKS5 / HTTP CONNECT)
 * and an optional `Authorization` provider for `POST /v1/messages` (Privacy Pass tokens).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import {
  concat,
  defaultRandomBytes,
  equalBytes,
  fromBase64,
  fromHex,
  type RandomBytes,
  toBase64,
  toHex,
} from "./bytes.ts";
import { type EcdhBackend, fastestEcdh, nobleEcdh } from "./ecdh.ts";
import { EnvelopeError, EnvelopeOpener, seal, TAG_BYTES } from "./envelope.ts";
import {
  decodePayload,
  encodePayload,
  type Payload,
  type SignatureCheck,
  verifySender,
} from "./payload.ts";
import {
  decodeStealthAddress,
  matchesPrefix,
  prefixByteLength,
  type StealthAddress,
} from "./stealth_address.ts";
import { SubspaceHttpError } from "./http_error.ts";
import { NetworkError, toNetworkError } from "./net_error.ts";
import { normalizeServer } from "./_server_url.ts";
import { type FetchLike, proxyFetch } from "./proxy.ts";
import { originOf, takeTokenFor, type TokenStore } from "./tokens.ts";
import { formatAuthorization } from "./token_wire.ts";

export { SubspaceHttpError };

/**
 * Supplies an `Authorization` header value for a `POST /v1/messages` (for example
 * `PrivateToken token=...`), or `undefined` to send none.
 */
export type AuthorizationProvider = (ctx: {
  server: string;
  tag: Uint8Array;
  payload: Uint8Array;
}) => Promise<string | undefined> | string | undefined;

/** Persists the `GET /v1/messages` cursor per server between runs. */
export interface CursorStore {
  /** The saved cursor for `server`, if any. */
  get(server: string): Promise<string | undefined> | string | undefined;
  /** Saves the cursor for `server`. */
  set(server: string, cursor: string): Promise<void> | void;
}

/** A cursor store in memory (lost when the process ends). */
export class MemoryCursorStore implements CursorStore {
  /** The cursors by server URL. */
  readonly cursors: Map<string, string> = new Map();
  /** Returns the saved cursor. */
  get(server: string): string | undefined {
    return this.cursors.get(server);
  }
  /** Saves a cursor. */
  set(server: string, cursor: string): void {
    this.cursors.set(server, cursor);
  }
}

/** Retry policy for transient failures (network errors, 429, 5xx). */
export interface RetryPolicy {
  /** Attempts in total, first one included (default 4). */
  attempts: number;
  /** First backoff delay (default 250 ms); doubles each time, with jitter. */
  baseDelayMs: number;
  /** Longest backoff delay (default 10 s). */
  maxDelayMs: number;
}

/** A failed attempt that will be retried, as {@link SubspaceClientOptions.onRetry} sees it. */
export interface RetryNotice {
  /** The server (base URL) or request URL. */
  url: string;
  /** What failed: a {@link NetworkError} or a {@link SubspaceHttpError} (429, 5xx). */
  error: Error;
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  /** Attempts in all (`Infinity` for a watch loop, which retries until stopped). */
  attempts: number;
  /** How long until the next attempt, in milliseconds. */
  delayMs: number;
}

/** Options of {@link SubspaceClient}. */
export interface SubspaceClientOptions {
  /**
   * Called before each retry of a transient failure (network errors, 429, 5xx), with the error
   * and the delay, so a wallet can say what is going on instead of going quiet.
   */
  onRetry?: (notice: RetryNotice) => void;
  /** Transport (default `globalThis.fetch`). */
  fetch?: FetchLike;
  /** Proxy URL (`socks5://host:port`, `http://host:port`); overrides `fetch`. Deno only. */
  proxy?: string;
  /** `Authorization` header provider for posts (Privacy Pass). */
  authorization?: AuthorizationProvider;
  /**
   * Privacy Pass tokens to spend on posts: one per post (unless `authorization` is given; it
   * serves every retry of that post and goes back to the store when the server never
   * answered), and, when a server answers 401 with a PrivateToken challenge, one retry with a
   * stored token made for that challenge.
   */
  tokens?: TokenStore;
  /** ECDH backend (default: noble; {@link SubspaceClient.create} picks the fastest). */
  ecdh?: EcdhBackend;
  /** Retry policy. */
  retry?: Partial<RetryPolicy>;
  /** Randomness (ephemeral keys, tags, jitter). */
  random?: RandomBytes;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Timeout of one request that is not a long poll (default 30 s). */
  requestTimeoutMs?: number;
}

/** A message stored on a server, as `GET /v1/messages` returns it. */
export interface WireMessage {
  /** Hex `sha256(tag || payload)`. */
  id: string;
  /** Hex 20-byte tag. */
  tag: string;
  /** Base64 envelope (null when the server knows of it but has no body yet). */
  payload: string | null;
  /** Unix seconds. */
  received_at: number;
  /** Unix seconds. */
  expires_at: number;
}

/** One page of a prefix query. */
export interface MessagePage {
  /** Messages after the cursor. */
  messages: WireMessage[];
  /** Cursor to pass as `after` next time. */
  cursor: string;
}

/** A message decrypted for us. */
export interface InboxMessage {
  /** Message id (hex). */
  id: string;
  /** Tag (hex). */
  tag: string;
  /** The server it was read from. */
  server: string;
  /** Unix seconds. */
  receivedAt: number;
  /** Unix seconds. */
  expiresAt: number;
  /** Envelope size in bytes. */
  sizeBytes: number;
  /** The decrypted payload. */
  payload: Payload;
  /** Sender signature check. */
  sender: SignatureCheck;
}

/** What a wallet needs to watch its inbox: scan keys and the prefix it published. */
export interface WatchIdentity {
  /** Scan secret key. */
  scanSecret: Uint8Array;
  /** Compressed scan public key. */
  scanPubkey: Uint8Array;
  /** Published prefix bytes. */
  prefix: Uint8Array;
  /** Published prefix length in bits. */
  prefixBits: number;
}

/** Scan progress, reported after every page. */
export interface ScanProgress {
  /** The server the page came from. */
  server: string;
  /** Envelopes examined so far (all servers). */
  scanned: number;
  /** Envelopes that were ours so far. */
  matched: number;
  /** Whether this server has nothing older left to read (every page after this is new mail). */
  caughtUp: boolean;
}

/** Options of {@link SubspaceClient.watch}. */
export interface WatchOptions {
  /** Servers to read from (base URLs). */
  servers: string[];
  /** Cursor persistence; without one every run starts at the beginning. */
  cursors?: CursorStore;
  /** Ignore saved cursors and start from the oldest stored message (cursors are still saved). */
  fromStart?: boolean;
  /** Keep long-polling for new messages (default true); false stops when caught up. */
  follow?: boolean;
  /** Long-poll wait in seconds (default 30). */
  waitSeconds?: number;
  /** Page size (default 500). */
  limit?: number;
  /** Stops the iteration. */
  signal?: AbortSignal;
  /** Called for envelopes that failed (tampered, malformed) and for transient errors. */
  onError?: (error: Error, server: string) => void;
  /** Called after every page. */
  onProgress?: (progress: ScanProgress) => void;
}

/** Options of {@link SubspaceClient.send}. */
export interface SendOptions {
  /** Requested time to live in seconds. */
  ttlSeconds?: number;
  /** Sign as the sender with this secret key (BIP340). */
  signWith?: Uint8Array;
  /** Pad the envelope to at least this bucket size. */
  minBucketBytes?: number;
}

/** Result of a successful send. */
export interface SendResult {
  /** Message id (hex), as the server computed it. */
  id: string;
  /** Unix seconds. */
  expiresAt: number;
  /** Tag the message was posted under (hex). */
  tag: string;
  /** Envelope size in bytes. */
  sizeBytes: number;
}

/** What {@link SubspaceClient.info} reports of `GET /v1/info`. */
export interface ServerInfo {
  /** `open` or `tokens`. */
  quota: string;
  /** Largest envelope accepted. */
  maxPayloadBytes?: number;
  /** Longest TTL accepted. */
  maxTtlSeconds?: number;
  /** TTL of a message that names none. */
  defaultTtlSeconds?: number;
}

/** Stored tokens tried after the first one is refused (spent, forged, or for an old key). */
const MAX_TOKEN_RETRIES = 3;

/** Message ids remembered for de-duplication across servers during one watch. */
const MAX_SEEN_IDS = 100_000;

function abortError(signal?: AbortSignal): unknown {
  return signal?.reason ?? new DOMException("The operation was aborted", "AbortError");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function isTransient(e: unknown): boolean {
  if (e instanceof SubspaceHttpError) return e.status === 429 || e.status >= 500;
  if (e instanceof NetworkError) return e.transient;
  if (e instanceof DOMException && e.name === "AbortError") return false;
  return e instanceof TypeError || (e instanceof Error && e.name !== "RangeError");
}

/**
 * The Subspace wallet client.
 *
 * @example
 * ```ts
 * const client = await SubspaceClient.create();
 * await client.send("http://127.0.0.1:8080", recipientAddress, {
 *   type: "text", createdTime: Math.floor(Date.now() / 1000), memo: "", body: utf8.encode("hi"),
 * });
 * for await (const m of client.watch(identity, { servers: ["http://127.0.0.1:8080"] })) {
 *   console.log(m.payload);
 * }
 * ```
 */
export class SubspaceClient {
  readonly #fetch: FetchLike;
  readonly #authorization: AuthorizationProvider | undefined;
  readonly #tokens: TokenStore | undefined;
  readonly #ecdh: EcdhBackend;
  readonly #retry: RetryPolicy;
  readonly #random: RandomBytes;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #onRetry: ((notice: RetryNotice) => void) | undefined;
  readonly #info = new Map<string, Promise<ServerInfo>>();

  constructor(opts: SubspaceClientOptions = {}) {
    this.#fetch = opts.proxy !== undefined
      ? proxyFetch(opts.proxy)
      : opts.fetch ?? ((req) => fetch(req));
    this.#tokens = opts.tokens;
    this.#authorization = opts.authorization;
    this.#ecdh = opts.ecdh ?? nobleEcdh;
    this.#retry = { attempts: 4, baseDelayMs: 250, maxDelayMs: 10_000, ...opts.retry };
    this.#random = opts.random ?? defaultRandomBytes;
    this.#now = opts.now ?? Date.now;
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#onRetry = opts.onRetry;
  }

  /** Creates a client with the fastest ECDH backend available (node:crypto under Deno). */
  static async create(opts: SubspaceClientOptions = {}): Promise<SubspaceClient> {
    return new SubspaceClient({ ecdh: opts.ecdh ?? await fastestEcdh(), ...opts });
  }

  /** The ECDH backend in use. */
  get ecdhName(): string {
    return this.#ecdh.name;
  }

  #backoffMs(attempt: number, retryAfter?: string | null): number {
    const ra = retryAfter === null || retryAfter === undefined ? NaN : Number(retryAfter);
    if (Number.isFinite(ra) && ra >= 0) return Math.min(ra * 1000, this.#retry.maxDelayMs);
    const base = Math.min(this.#retry.baseDelayMs * 2 ** attempt, this.#retry.maxDelayMs);
    const jitter = (this.#random(1)[0]! / 255) * 0.5 + 0.75; // 0.75..1.25
    return Math.round(base * jitter);
  }

  /** One HTTP exchange with retries; returns the parsed JSON body. */
  async #request(
    make: () => Request | Promise<Request>,
    opts: { signal?: AbortSignal; timeoutMs?: number; retries?: boolean } = {},
  ): Promise<unknown> {
    const attempts = opts.retries === false ? 1 : Math.max(1, this.#retry.attempts);
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.#timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
      let retryAfter: string | null = null;
      let url = "";
      try {
        const base = await make();
        url = base.url;
        let res: Response;
        let text: string;
        try {
          res = await this.#fetch(new Request(base, { signal }));
          retryAfter = res.headers.get("retry-after");
          text = await res.text();
        } catch (e) {
          if (opts.signal?.aborted) throw e;
          throw toNetworkError(
            timeout.aborted ? new DOMException("timed out", "TimeoutError") : e,
            url,
            opts.timeoutMs ?? this.#timeoutMs,
          );
        }
        let body: unknown = undefined;
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (!res.ok) {
          const problem = typeof body === "object" && body !== null
            ? body as Record<string, unknown>
            : undefined;
          const detail = problem?.detail ?? problem?.title ?? text.slice(0, 200);
          throw new SubspaceHttpError(
            res.status,
            `${base.method} ${new URL(base.url).pathname} failed: ${res.status} ${detail}`,
            problem,
            res.headers,
          );
        }
        return body;
      } catch (err) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        lastError = err;
        if (!isTransient(err) || attempt === attempts - 1) throw err;
        const delayMs = this.#backoffMs(attempt, retryAfter);
        this.#onRetry?.({ url, error: err as Error, attempt: attempt + 1, attempts, delayMs });
        await sleep(delayMs, opts.signal);
      }
    }
    throw lastError;
  }

  /**
   * The server's self-description (`GET /v1/info`), read once per server and client.
   */
  info(server: string, opts: { signal?: AbortSignal } = {}): Promise<ServerInfo> {
    const base = normalizeServer(server);
    let p = this.#info.get(base);
    if (p === undefined) {
      p = (async () => {
        const body = await this.#request(
          () => new Request(`${base}/v1/info`),
          opts.signal ? { signal: opts.signal } : {},
        ) as Record<string, unknown> | undefined;
        const limits = (body?.limits ?? {}) as Record<string, unknown>;
        const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : undefined;
        const info: ServerInfo = { quota: typeof body?.quota === "string" ? body.quota : "open" };
        const maxPayload = num(limits.max_payload_bytes);
        const maxTtl = num(limits.max_ttl_seconds);
        const defaultTtl = num(limits.default_ttl_seconds);
        if (maxPayload !== undefined) info.maxPayloadBytes = maxPayload;
        if (maxTtl !== undefined) info.maxTtlSeconds = maxTtl;
        if (defaultTtl !== undefined) info.defaultTtlSeconds = defaultTtl;
        return info;
      })();
      p.catch(() => this.#info.delete(base));
      this.#info.set(base, p);
    }
    return p;
  }

  /**
   * Checks a post against the server's limits (`/v1/info`) before a token is spent on it.
   *
   * @throws {RangeError} naming the limit when the server would refuse the post.
   */
  async checkLimits(
    server: string,
    post: { sizeBytes: number; ttlSeconds?: number | undefined },
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const info = await this.info(server, opts);
    const where = originOf(server);
    if (info.maxPayloadBytes !== undefined && post.sizeBytes > info.maxPayloadBytes) {
      throw new RangeError(
        `Cannot post: the envelope is ${post.sizeBytes} bytes and ${where} takes at most ${info.maxPayloadBytes}`,
      );
    }
    if (
      post.ttlSeconds !== undefined && info.maxTtlSeconds !== undefined &&
      post.ttlSeconds > info.maxTtlSeconds
    ) {
      throw new RangeError(
        `Cannot post: ttl ${post.ttlSeconds} s is longer than ${where} keeps messages (at most ${info.maxTtlSeconds} s)`,
      );
    }
  }

  /**
   * Posts a sealed envelope under `tag` to `server`. When the post spends a token, it is first
   * checked against the server's limits ({@link SubspaceClient.checkLimits}), so a post the
   * server would refuse costs none; a token the server refuses (spent, forged, or for an old
   * key) is followed by the next stored token that fits the server's challenge, a few times.
   *
   * @throws {RangeError} when the post breaks the server's limits (nothing spent).
   * @throws {SubspaceHttpError} when the server refuses (4xx) or keeps failing (5xx).
   */
  async post(
    server: string,
    tag: Uint8Array,
    envelope: Uint8Array,
    opts: { ttlSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<{ id: string; expiresAt: number }> {
    const base = normalizeServer(server);
    if (tag.length !== TAG_BYTES) throw new RangeError(`Cannot post: tag must be 20 bytes`);
    const json: Record<string, unknown> = { tag: toHex(tag), payload: toBase64(envelope) };
    if (opts.ttlSeconds !== undefined) json.ttl_seconds = opts.ttlSeconds;
    const body = JSON.stringify(json);
    const request = (auth: string | undefined) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (auth !== undefined) headers.authorization = auth;
      return new Request(`${base}/v1/messages`, { method: "POST", headers, body });
    };
    const reqOpts = opts.signal ? { signal: opts.signal } : {};
    type Answer = { id?: unknown; expires_at?: unknown };
    const store = this.#tokens;
    if (store !== undefined || this.#authorization !== undefined) {
      await this.checkLimits(
        base,
        { sizeBytes: envelope.length, ttlSeconds: opts.ttlSeconds },
        reqOpts,
      );
    }
    // Posts with a token from the store; one the server never charged goes back: no answer at
    // all, or a refusal of the request itself (400, 413, 415), which comes before any charge.
    const withToken = async (token: Uint8Array | undefined, make: () => Promise<Request>) => {
      try {
        return await this.#request(make, reqOpts) as Answer;
      } catch (e) {
        const uncharged = !(e instanceof SubspaceHttpError) || [400, 413, 415].includes(e.status);
        if (uncharged && token !== undefined) await store?.giveBack(base, token);
        throw e;
      }
    };
    // Without an authorization provider, one stored token serves every retry of this post
    // (a malformed one is skipped: the server could only refuse it).
    const token = this.#authorization === undefined && store !== undefined
      ? await store.take(base, () => true)
      : undefined;
    let res: Answer | undefined;
    let refused: unknown;
    try {
      res = await withToken(token, async () =>
        request(
          this.#authorization !== undefined
            ? await this.#authorization({ server: base, tag, payload: envelope })
            : token === undefined
            ? undefined
            : formatAuthorization(token),
        ));
    } catch (e) {
      refused = e;
    }
    for (let extra = 0; res === undefined && extra < MAX_TOKEN_RETRIES; extra++) {
      const challenge = refused instanceof SubspaceHttpError && refused.status === 401
        ? refused.headers.get("www-authenticate")
        : null;
      if (store === undefined || challenge === null) throw refused;
      const fitting = await takeTokenFor(store, base, challenge);
      if (fitting === undefined) throw refused;
      try {
        res = await withToken(
          fitting,
          () => Promise.resolve(request(formatAuthorization(fitting))),
        );
      } catch (e) {
        refused = e;
      }
    }
    if (res === undefined) throw refused;
    const expected = toHex(sha256(concat(tag, envelope)));
    if (res?.id !== expected) {
      throw new Error(`server answered with id ${String(res?.id)}, expected ${expected}`);
    }
    return { id: expected, expiresAt: Number(res.expires_at) };
  }

  /**
   * Seals `payload` to the stealth address `to` and posts it to `server`.
   *
   * @example
   * ```ts
   * const r = await client.send(server, "vJmw...", { type: "text", createdTime: 0, memo: "",
   *   body: utf8.encode("hello") });
   * ```
   */
  async send(
    server: string,
    to: string | StealthAddress,
    payload: Payload,
    opts: SendOptions & { signal?: AbortSignal } = {},
  ): Promise<SendResult> {
    const recipient = typeof to === "string" ? decodeStealthAddress(to) : to;
    const plaintext = encodePayload(
      payload,
      opts.signWith !== undefined
        ? {
          signWith: { secret: opts.signWith, recipientScanPubkey: recipient.scanPubkey },
          random: this.#random,
        }
        : {},
    );
    const sealOpts: Parameters<typeof seal>[2] = { ecdh: this.#ecdh, random: this.#random };
    if (opts.minBucketBytes !== undefined) sealOpts.minBucketBytes = opts.minBucketBytes;
    const { tag, envelope } = seal(recipient, plaintext, sealOpts);
    const postOpts: { ttlSeconds?: number; signal?: AbortSignal } = {};
    if (opts.ttlSeconds !== undefined) postOpts.ttlSeconds = opts.ttlSeconds;
    if (opts.signal !== undefined) postOpts.signal = opts.signal;
    const r = await this.post(server, tag, envelope, postOpts);
    return { ...r, tag: toHex(tag), sizeBytes: envelope.length };
  }

  /**
   * Fetches one page of messages under a prefix (`GET /v1/messages`).
   */
  async fetchPage(
    server: string,
    q: {
      prefix: Uint8Array;
      prefixBits: number;
      after?: string;
      limit?: number;
      waitSeconds?: number;
      signal?: AbortSignal;
    },
  ): Promise<MessagePage> {
    const base = normalizeServer(server);
    const params = new URLSearchParams({
      prefix: toHex(q.prefix.subarray(0, prefixByteLength(q.prefixBits))),
      bits: String(q.prefixBits),
    });
    if (q.after !== undefined) params.set("after", q.after);
    if (q.limit !== undefined) params.set("limit", String(q.limit));
    if (q.waitSeconds !== undefined && q.waitSeconds > 0) {
      params.set("wait", String(q.waitSeconds));
    }
    const url = `${base}/v1/messages?${params}`;
    const opts: { signal?: AbortSignal; timeoutMs: number } = {
      timeoutMs: this.#timeoutMs + (q.waitSeconds ?? 0) * 1000,
    };
    if (q.signal !== undefined) opts.signal = q.signal;
    const body = await this.#request(() => new Request(url), opts) as Partial<MessagePage>;
    if (!Array.isArray(body?.messages) || typeof body.cursor !== "string") {
      throw new Error(`GET ${base}/v1/messages: response lacks messages[] and cursor`);
    }
    return { messages: body.messages as WireMessage[], cursor: body.cursor };
  }

  /**
   * Fetches one message by id (`GET /v1/messages/<id>`), or `undefined` when the server does
   * not have it (404).
   */
  async getMessage(
    server: string,
    id: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<WireMessage | undefined> {
    const base = normalizeServer(server);
    fromHex(id, "message id", 32);
    try {
      return await this.#request(
        () => new Request(`${base}/v1/messages/${id}`),
        opts.signal ? { signal: opts.signal } : {},
      ) as WireMessage;
    } catch (e) {
      if (e instanceof SubspaceHttpError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Makes a decryptor for one identity (reuse it across many messages). */
  opener(identity: Pick<WatchIdentity, "scanSecret" | "scanPubkey">): EnvelopeOpener {
    return new EnvelopeOpener(identity, this.#ecdh);
  }

  /**
   * Trial-decrypts one wire message. Returns `null` when it is not addressed to `opener`'s key.
   *
   * @throws {EnvelopeError} when it is ours but tampered or malformed, or its id does not match.
   */
  decrypt(
    opener: EnvelopeOpener,
    scanPubkey: Uint8Array,
    m: WireMessage,
    server = "",
  ): InboxMessage | null {
    if (m.payload === null || typeof m.payload !== "string") return null;
    let tag: Uint8Array;
    try {
      tag = fromHex(m.tag, "tag", TAG_BYTES);
    } catch {
      return null;
    }
    const plaintext = opener.openBase64(tag, m.payload);
    if (plaintext === null) return null;
    const envelope = fromBase64(m.payload);
    const id = toHex(sha256(concat(tag, envelope)));
    if (!equalBytes(fromHex(id), fromHex(m.id, "id"))) {
      throw new EnvelopeError("malformed", `message id ${m.id} does not match its content`);
    }
    let payload: Payload;
    try {
      payload = decodePayload(plaintext);
    } catch (e) {
      throw new EnvelopeError("malformed", (e as Error).message);
    }
    return {
      id,
      tag: m.tag,
      server,
      receivedAt: m.received_at,
      expiresAt: m.expires_at,
      sizeBytes: envelope.length,
      payload,
      sender: verifySender(payload, scanPubkey),
    };
  }

  /**
   * Reads every server under the identity's prefix and yields the messages addressed to it,
   * oldest first per server, each message once even when several servers hold it. Long-polls
   * for new ones unless `follow` is false. Cursors are saved after each page.
   */
  async *watch(identity: WatchIdentity, opts: WatchOptions): AsyncGenerator<InboxMessage> {
    if (opts.servers.length === 0) throw new RangeError("Cannot watch: no servers given");
    const servers = opts.servers.map(normalizeServer);
    const opener = this.opener(identity);
    const follow = opts.follow ?? true;
    const waitSeconds = opts.waitSeconds ?? 30;
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const seen = new Set<string>();
    const progress = { scanned: 0, matched: 0 };
    // A small queue that the per-server loops push into and this generator drains.
    const queue: InboxMessage[] = [];
    let wake: (() => void) | undefined;
    let running = servers.length;
    let fatal: unknown;
    const notify = () => {
      wake?.();
      wake = undefined;
    };

    const loop = async (server: string) => {
      let cursor = opts.fromStart ? undefined : await opts.cursors?.get(server);
      let failures = 0;
      let caughtUp = false;
      const limit = opts.limit ?? 500;
      try {
        while (!signal.aborted) {
          let page: MessagePage;
          try {
            const q: Parameters<SubspaceClient["fetchPage"]>[1] = {
              prefix: identity.prefix,
              prefixBits: identity.prefixBits,
              limit,
              signal,
            };
            if (cursor !== undefined) q.after = cursor;
            if (follow && caughtUp) q.waitSeconds = waitSeconds;
            page = await this.fetchPage(server, q);
            failures = 0;
          } catch (e) {
            if (signal.aborted) return;
            if (!follow || !isTransient(e)) throw e;
            const delayMs = this.#backoffMs(Math.min(failures++, 6));
            if (this.#onRetry !== undefined) {
              this.#onRetry({
                url: server,
                error: e as Error,
                attempt: failures,
                attempts: Infinity,
                delayMs,
              });
            } else opts.onError?.(e as Error, server);
            await sleep(delayMs, signal).catch(() => {});
            continue;
          }
          for (const m of page.messages) {
            progress.scanned++;
            let tagOk = false;
            try {
              tagOk = matchesPrefix(
                fromHex(m.tag, "tag", TAG_BYTES),
                identity.prefix,
                identity.prefixBits,
              );
            } catch {
              tagOk = false;
            }
            if (!tagOk || seen.has(m.id)) continue;
            try {
              const got = this.decrypt(opener, identity.scanPubkey, m, server);
              if (got !== null) {
                seen.add(m.id);
                if (seen.size > MAX_SEEN_IDS) seen.delete(seen.values().next().value!);
                progress.matched++;
                queue.push(got);
                notify();
              }
            } catch (e) {
              opts.onError?.(e as Error, server);
            }
          }
          cursor = page.cursor;
          await opts.cursors?.set(server, cursor);
          caughtUp = page.messages.length < limit;
          opts.onProgress?.({ server, ...progress, caughtUp });
          if (caughtUp && !follow) return;
        }
      } catch (e) {
        fatal ??= e;
        stop.abort();
      } finally {
        running--;
        notify();
      }
    };

    const loops = servers.map((s) => loop(s));
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (fatal !== undefined) throw fatal;
        if (running === 0 || signal.aborted) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (queue.length > 0 || running === 0 || signal.aborted) resolve();
        });
      }
      while (queue.length > 0) yield queue.shift()!;
      if (fatal !== undefined) throw fatal;
    } finally {
      stop.abort();
      await Promise.allSettled(loops);
    }
  }
}
