/**
 * Getting and spending Privacy Pass tokens (RFC 9576/9577/9578, token type 0x0002) from a
 * wallet: {@linkcode signup} turns a solved captcha into an account number,
 * {@linkcode fetchTokens} blinds token inputs, asks the issuer (`POST /v1/tokens`) and
 * finalizes the answers, and {@linkcode tokenAuthorization} / {@linkcode answerTokenChallenge}
 * spend stored tokens on `POST /v1/messages`. Every call takes the same `fetch` / `proxy`
 * options as {@linkcode SubspaceClient}, so token traffic goes through the same Tor proxy.
 *
 * @example
 * ```ts
 * const store = new MemoryTokenStore();
 * const { account } = await signup(server, async (c) => prompt(`answer for ${c.svg}`)!);
 * await fetchTokens(server, { account, count: 10, store });
 * const client = await SubspaceClient.create({ authorization: tokenAuthorization(store) });
 * ```
 *
 * @module
 */
import { blind, finalize } from "./blind_rsa.ts";
import {
  defaultRandomBytes,
  fromBase64Url,
  fromHex,
  type RandomBytes,
  toBase64Url,
} from "./bytes.ts";
import { exchange, type TokenHttpOptions, under } from "./_exchange.ts";
import { SubspaceHttpError } from "./http_error.ts";
import { normalizeServer, parseServerUrl } from "./_server_url.ts";
import {
  challengeDigest,
  decodeToken,
  decodeTokenKey,
  decodeTokenResponse,
  encodeToken,
  encodeTokenRequest,
  formatAuthorization,
  ISSUER_DIRECTORY_PATH,
  NONCE_BYTES,
  parseIssuerDirectory,
  parseWwwAuthenticate,
  type Token,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  tokenKeyId,
} from "./token_wire.ts";

export type { TokenHttpOptions };

/** Bytes of an account number (128 bits). */
export const ACCOUNT_BYTES = 16;

/**
 * Parses an account number (32 hex characters; dashes and spaces ignored).
 *
 * @example
 * ```ts
 * parseAccountNumber("0123-4567-89ab-cdef-0123-4567-89ab-cdef"); // 16 bytes
 * ```
 * @throws {TypeError} when `text` is not a string.
 * @throws {RangeError} naming the problem.
 */
export function parseAccountNumber(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError("Cannot parse account: expected a string");
  const clean = text.replace(/[\s-]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(clean)) {
    throw new RangeError("Cannot parse account: expected hex characters 0-9a-f");
  }
  if (clean.length !== ACCOUNT_BYTES * 2) {
    throw new RangeError(
      `Cannot parse account: expected ${ACCOUNT_BYTES * 2} hex characters, got ${clean.length}`,
    );
  }
  return fromHex(clean, "account");
}

/**
 * Where a wallet keeps unspent tokens (serialized RFC 9577 `Token`s), per server origin. A
 * token is taken out before it is offered, so it is never offered twice.
 */
export interface TokenStore {
  /** Removes and returns one token for `origin` that `accept` accepts (any when omitted). */
  take(
    origin: string,
    accept?: (token: Token) => boolean,
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Appends tokens for `origin`. */
  add(origin: string, tokens: Uint8Array[]): Promise<void> | void;
  /** Puts back, first in line, a token the server never saw. */
  giveBack(origin: string, token: Uint8Array): Promise<void> | void;
}

/** A {@linkcode TokenStore} in memory (lost when the process ends). */
export class MemoryTokenStore implements TokenStore {
  /** Unspent tokens by origin, oldest first. */
  readonly tokens: Map<string, Uint8Array[]> = new Map();
  /** Removes and returns one accepted token. */
  take(origin: string, accept?: (token: Token) => boolean): Uint8Array | undefined {
    const list = this.tokens.get(originOf(origin));
    if (list === undefined) return undefined;
    const i = accept === undefined ? 0 : list.findIndex((t) => acceptsToken(accept, t));
    if (i < 0 || i >= list.length) return undefined;
    return list.splice(i, 1)[0];
  }
  /** Appends tokens. */
  add(origin: string, tokens: Uint8Array[]): void {
    const key = originOf(origin);
    this.tokens.set(key, [...(this.tokens.get(key) ?? []), ...tokens]);
  }
  /** Puts a token back first in line. */
  giveBack(origin: string, token: Uint8Array): void {
    const key = originOf(origin);
    this.tokens.set(key, [token, ...(this.tokens.get(key) ?? [])]);
  }
}

/** Whether `accept` takes the serialized `token` (a malformed one is never accepted). */
export function acceptsToken(accept: (token: Token) => boolean, token: Uint8Array): boolean {
  try {
    return accept(decodeToken(token));
  } catch {
    return false;
  }
}

/**
 * The origin a server URL's tokens are filed under (`https://host:port`).
 *
 * @example
 * ```ts
 * originOf("http://127.0.0.1:8080/some/path"); // "http://127.0.0.1:8080"
 * ```
 * @throws {RangeError} when `server` is not an http(s) URL.
 */
export function originOf(server: string): string {
  return parseServerUrl(server).origin;
}

/** A captcha from `GET /v1/captcha`. */
export interface Captcha {
  /** The id to send back with the answer. */
  id: string;
  /** The image, as SVG text. */
  svg: string;
  /** Unix seconds after which the answer is refused. */
  expiresAt: number;
}

/** A new account from `POST /v1/accounts`. */
export interface Account {
  /** The account number (32 hex characters): keep it secret, it draws the free quota. */
  account: string;
  /** Free tokens per period. */
  freeTokens: number;
  /** Length of the quota period in seconds. */
  quotaPeriodSeconds: number;
}

/**
 * Fetches a captcha (`GET /v1/captcha`).
 *
 * @example
 * ```ts
 * const { id, svg } = await fetchCaptcha("http://127.0.0.1:8080");
 * ```
 */
export async function fetchCaptcha(server: string, opts: TokenHttpOptions = {}): Promise<Captcha> {
  const body = await exchange(opts, `${normalizeServer(server)}/v1/captcha`);
  if (typeof body.id !== "string" || typeof body.svg !== "string") {
    throw new TypeError("GET /v1/captcha: response lacks id and svg");
  }
  return { id: body.id, svg: body.svg, expiresAt: Number(body.expires_at) };
}

/**
 * Answers a captcha (`POST /v1/accounts`) and returns the new account.
 *
 * @throws {SubspaceHttpError} 400 on a wrong answer or an unknown or expired captcha.
 */
export async function createAccount(
  server: string,
  captchaId: string,
  answer: string,
  opts: TokenHttpOptions = {},
): Promise<Account> {
  const body = await exchange(opts, `${normalizeServer(server)}/v1/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ captcha_id: captchaId, answer }),
  });
  if (typeof body.account !== "string") {
    throw new TypeError("POST /v1/accounts: response lacks account");
  }
  return {
    account: body.account,
    freeTokens: Number(body.free_tokens),
    quotaPeriodSeconds: Number(body.quota_period_seconds),
  };
}

/**
 * Signs up: fetches a captcha, asks `solve` for its answer and creates the account.
 *
 * @example
 * ```ts
 * const { account } = await signup(server, async (captcha) => await askUser(captcha.svg));
 * ```
 */
export async function signup(
  server: string,
  solve: (captcha: Captcha) => Promise<string> | string,
  opts: TokenHttpOptions = {},
): Promise<Account> {
  const captcha = await fetchCaptcha(server, opts);
  const answer = (await solve(captcha)).trim();
  if (answer === "") throw new RangeError("Cannot sign up: no captcha answer given");
  return await createAccount(server, captcha.id, answer, opts);
}

/** What `GET /v1/pricing` says about tokens (members the node does not send are absent). */
export interface TokenPricing {
  /** Free tokens per account and period. */
  freeTokens?: number;
  /** Length of the quota period in seconds. */
  quotaPeriodSeconds?: number;
  /** Whether the node sells tokens for bitcoin. */
  feesEnabled?: boolean;
  /** Tokens per bundle sold. */
  tokensPerBundle?: number;
  /** Price of one bundle in satoshis. */
  bundlePriceSats?: number;
}

/**
 * Reads the node's token pricing (`GET /v1/pricing`): the free quota and, when it sells
 * tokens, the bundle price.
 */
export async function fetchPricing(
  server: string,
  opts: TokenHttpOptions = {},
): Promise<TokenPricing> {
  const p = await exchange(opts, `${normalizeServer(server)}/v1/pricing`);
  const out: TokenPricing = {};
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : undefined;
  const set = <K extends keyof TokenPricing>(k: K, v: TokenPricing[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("freeTokens", num(p.free_tokens));
  set("quotaPeriodSeconds", num(p.quota_period_seconds));
  set("feesEnabled", typeof p.fees_enabled === "boolean" ? p.fees_enabled : undefined);
  set("tokensPerBundle", num(p.tokens_per_bundle));
  set("bundlePriceSats", num(p.bundle_price_sats));
  return out;
}

/** What an issuer publishes for token type 0x0002, ready for blinding. */
export interface IssuerKey {
  /** The serialized TokenChallenge the server asks tokens for (`/v1/info`). */
  challenge: Uint8Array;
  /** The encoded token key (RFC 9578 §6.5), the newest of the directory. */
  tokenKey: Uint8Array;
  /** Absolute issuance URL (`issuer-request-uri`). */
  requestUrl: string;
}

/**
 * Reads the server's token challenge (`GET /v1/info`) and newest signing key (the RFC 9578 §4
 * issuer directory).
 *
 * @throws {Error} when the server does not ask for tokens or publishes no key.
 */
export async function fetchIssuerKey(
  server: string,
  opts: TokenHttpOptions = {},
): Promise<IssuerKey> {
  const base = normalizeServer(server);
  const info = await exchange(opts, `${base}/v1/info`);
  const t = info.tokens as { challenge?: unknown; issuer_directory?: unknown } | undefined;
  if (info.quota !== "tokens" || typeof t?.challenge !== "string") {
    throw new Error(`${originOf(base)} does not ask for tokens (quota: ${String(info.quota)})`);
  }
  const challenge = fromBase64Url(t.challenge, "tokens.challenge");
  const dirPath = typeof t.issuer_directory === "string"
    ? t.issuer_directory
    : ISSUER_DIRECTORY_PATH;
  const dir = parseIssuerDirectory(await exchange(opts, under(base, dirPath)));
  const last = dir["token-keys"].filter((k) => k["token-type"] === TOKEN_TYPE_BLIND_RSA).at(-1);
  if (last === undefined) throw new Error(`${originOf(base)} publishes no token key`);
  return {
    challenge,
    tokenKey: fromBase64Url(last["token-key"], "token-key"),
    requestUrl: under(base, dir["issuer-request-uri"]),
  };
}

/** An account's state (`GET /v1/account`). */
export interface AccountState {
  /** Free tokens left this period. */
  freeRemaining: number;
  /** Paid tokens left. */
  credit: number;
  /** Unix seconds when the free quota refills. */
  periodEndsAt: number;
  /** Whether the operator disabled the account. */
  disabled: boolean;
}

/**
 * Reads an account's state: free tokens left this period, paid credit, when the quota refills.
 *
 * @example
 * ```ts
 * const { freeRemaining, credit } = await fetchAccount(server, account);
 * ```
 * @throws {SubspaceHttpError} 401/404 for an unknown account.
 */
export async function fetchAccount(
  server: string,
  account: string,
  opts: TokenHttpOptions = {},
): Promise<AccountState> {
  const a = await exchange(opts, `${normalizeServer(server)}/v1/account`, {
    headers: { authorization: `Bearer ${account}` },
  });
  return {
    freeRemaining: Number(a.free_remaining ?? 0),
    credit: Number(a.credit ?? 0),
    periodEndsAt: Number(a.period_ends_at ?? 0),
    disabled: a.disabled === true,
  };
}

/** How many tokens an account can draw now (free left plus credit). */
export function tokensAvailable(a: AccountState): number {
  return a.disabled ? 0 : a.freeRemaining + a.credit;
}

/** Raised by {@linkcode fetchTokens} when the account has fewer tokens left than asked for. */
export class NotEnoughTokensError extends RangeError {
  /** The account's state when asked. */
  readonly account: AccountState;
  /** Tokens asked for. */
  readonly asked: number;
  constructor(asked: number, account: AccountState, origin: string) {
    const left = tokensAvailable(account);
    super(
      account.disabled
        ? `Cannot fetch tokens: the account is disabled at ${origin}`
        : `Cannot fetch ${asked} tokens: the account has ${left} left at ${origin} (${account.freeRemaining} free until ${
          new Date(account.periodEndsAt * 1000).toISOString().replace(/\.\d+Z$/, "Z")
        }, ${account.credit} paid)`,
    );
    this.name = "NotEnoughTokensError";
    this.account = account;
    this.asked = asked;
  }
}

/** Options of {@linkcode fetchTokens}. */
export interface FetchTokensOptions extends TokenHttpOptions {
  /** The account number the tokens are drawn from (`Authorization: Bearer`). */
  account: string;
  /** Tokens to fetch. */
  count: number;
  /** Tokens per `POST /v1/tokens` (default 100). */
  batchSize?: number;
  /** Where to add the tokens as each batch arrives (they are also returned). */
  store?: TokenStore;
  /** Randomness for nonces, salts and blinds. */
  random?: RandomBytes;
}

/** Result of {@linkcode fetchTokens}. */
export interface FetchedTokens {
  /** Serialized tokens, ready to spend. */
  tokens: Uint8Array[];
  /** Free tokens the account has left this period, as the issuer said after the last batch. */
  freeRemaining: number;
  /** Paid tokens the account has left. */
  credit: number;
}

/**
 * Fetches `count` tokens: reads the challenge and key ({@linkcode fetchIssuerKey}), blinds
 * token inputs (RFC 9578 §6.1), asks `POST /v1/tokens` in batches and finalizes each answer
 * (§6.3), which checks the issuer's signature.
 *
 * @example
 * ```ts
 * const { tokens, freeRemaining } = await fetchTokens(server, { account, count: 10 });
 * ```
 * @throws {SubspaceHttpError} when the issuer refuses (401 unknown account, 429 quota used).
 * @throws {BlindRsaError} when an answer is not a valid signature.
 */
export async function fetchTokens(
  server: string,
  opts: FetchTokensOptions,
): Promise<FetchedTokens> {
  if (!Number.isSafeInteger(opts.count) || opts.count < 1) {
    throw new RangeError(
      `Cannot fetch tokens: count must be a positive integer, got ${opts.count}`,
    );
  }
  const random = opts.random ?? defaultRandomBytes;
  const batchSize = opts.batchSize ?? 100;
  const key = await fetchIssuerKey(server, opts);
  // Ask for no more than the account has: the issuer would refuse a batch mid-way.
  let state: AccountState | undefined;
  try {
    state = await fetchAccount(server, opts.account, opts);
  } catch (e) {
    if (!(e instanceof SubspaceHttpError && e.status === 404 && e.problem?.field !== "account")) {
      throw e;
    }
  }
  if (state !== undefined && tokensAvailable(state) < opts.count) {
    throw new NotEnoughTokensError(opts.count, state, originOf(server));
  }
  const pk = decodeTokenKey(key.tokenKey);
  const keyId = tokenKeyId(key.tokenKey);
  const digest = challengeDigest(key.challenge);
  const out: Uint8Array[] = [];
  let freeRemaining = 0;
  let credit = 0;
  while (out.length < opts.count) {
    const n = Math.min(batchSize, opts.count - out.length);
    const pending = Array.from({ length: n }, () => {
      const nonce = random(NONCE_BYTES);
      const input = tokenInput({
        tokenType: TOKEN_TYPE_BLIND_RSA,
        nonce,
        challengeDigest: digest,
        tokenKeyId: keyId,
      });
      return { nonce, input, ...blind(pk, input, { randomBytes: random }) };
    });
    const body = await exchange(opts, key.requestUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${opts.account}` },
      body: JSON.stringify({
        token_requests: pending.map((p) =>
          toBase64Url(encodeTokenRequest({
            tokenType: TOKEN_TYPE_BLIND_RSA,
            truncatedTokenKeyId: keyId[keyId.length - 1]!,
            blindedMsg: p.blindedMsg,
          }))
        ),
      }),
    });
    const responses = body.token_responses;
    if (!Array.isArray(responses) || responses.length !== n) {
      throw new TypeError(`POST /v1/tokens: expected ${n} token_responses`);
    }
    const batch = pending.map((p, i) => {
      const blindSig = decodeTokenResponse(
        fromBase64Url(String(responses[i]), `token_responses[${i}]`),
      );
      return encodeToken({
        tokenType: TOKEN_TYPE_BLIND_RSA,
        nonce: p.nonce,
        challengeDigest: digest,
        tokenKeyId: keyId,
        authenticator: finalize(pk, p.input, blindSig, p.inv),
      });
    });
    await opts.store?.add(originOf(server), batch);
    out.push(...batch);
    freeRemaining = Number(body.free_remaining);
    credit = Number(body.credit);
  }
  return { tokens: out, freeRemaining, credit };
}

/**
 * An `authorization` provider for `SubspaceClient` that spends one stored token per post
 * (`Authorization: PrivateToken token=...`), or sends none when the store has none for that
 * server.
 *
 * @example
 * ```ts
 * const client = await SubspaceClient.create({ authorization: tokenAuthorization(store) });
 * ```
 */
export function tokenAuthorization(
  store: TokenStore,
): (ctx: { server: string }) => Promise<string | undefined> {
  return async ({ server }) => {
    const token = await store.take(originOf(server));
    return token === undefined ? undefined : formatAuthorization(token);
  };
}

/**
 * Takes a stored token made for one of the PrivateToken challenges (RFC 9577 §2.1) in a
 * `401`'s `WWW-Authenticate` value (same challenge digest and token key id), or returns
 * `undefined` when none fits or the header carries none.
 *
 * @example
 * ```ts
 * const token = await takeTokenFor(store, server, res.headers.get("www-authenticate")!);
 * ```
 */
export async function takeTokenFor(
  store: TokenStore,
  server: string,
  wwwAuthenticate: string,
): Promise<Uint8Array | undefined> {
  let challenges;
  try {
    challenges = parseWwwAuthenticate(wwwAuthenticate);
  } catch {
    return undefined;
  }
  const wanted = challenges.map((c) => ({
    digest: toBase64Url(challengeDigest(c.challenge)),
    keyId: toBase64Url(tokenKeyId(c.tokenKey)),
  }));
  if (wanted.length === 0) return undefined;
  return await store.take(originOf(server), (t) => {
    const digest = toBase64Url(t.challengeDigest);
    const keyId = toBase64Url(t.tokenKeyId);
    return wanted.some((w) => w.digest === digest && w.keyId === keyId);
  });
}

/**
 * Answers a `401` whose `WWW-Authenticate` carries PrivateToken challenges: the
 * `Authorization` value to retry with ({@linkcode takeTokenFor}), or `undefined` when no
 * stored token fits.
 *
 * @example
 * ```ts
 * const auth = await answerTokenChallenge(store, server, res.headers.get("www-authenticate")!);
 * ```
 */
export async function answerTokenChallenge(
  store: TokenStore,
  server: string,
  wwwAuthenticate: string,
): Promise<string | undefined> {
  const token = await takeTokenFor(store, server, wwwAuthenticate);
  return token === undefined ? undefined : formatAuthorization(token);
}
