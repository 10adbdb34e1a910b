/**
 * The token service: issues blind signatures to accounts within their quota (RFC 9578 §6.2)
 * and redeems tokens exactly once (RFC 9577 §2.2, RFC 9578 §6.4).
 *
 * Tokens are bound to one fixed TokenChallenge per node — token type 0x0002, this issuer's
 * name, an empty redemption context and empty origin info — so wallets can fetch them in
 * advance and spend them later at this node. The issuer never sees the token it signs (the
 * request is blinded), so it cannot link a spent token to the account that bought it.
 *
 * @module
 */
import {
  ACCOUNT_BYTES,
  concat,
  defaultRandomBytes,
  equalBytes,
  parseAccountNumber,
  type RandomBytes,
  toHex,
} from "../../client/mod.ts";
import { blindSign, verify } from "./blind_rsa.ts";
import type { IssuerKeyRing } from "./issuer_keys.ts";
import type { SpentSet } from "./spent.ts";
import { AccountError, type QuotaPolicy, type QuotaStore, type Reservation } from "./store.ts";
import {
  decodeToken,
  encodeTokenChallenge,
  formatWwwAuthenticate,
  type IssuerDirectory,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  type TokenRequest,
} from "../../client/mod.ts";
import { sha256 } from "@noble/hashes/sha2.js";

export { ACCOUNT_BYTES, parseAccountNumber };

/** A fresh random account number: 32 lower-case hex characters. */
export function newAccountNumber(random: RandomBytes = defaultRandomBytes): string {
  return toHex(random(ACCOUNT_BYTES));
}

/** What the database keys an account by: SHA-256 of its number's bytes. */
export function accountHash(account: Uint8Array): Uint8Array {
  return sha256(concat(new TextEncoder().encode("subspace-account:"), account));
}

/** Why an issuance request was refused. */
export class IssueError extends Error {
  /** `key` (a retired or unknown key was named), `input` (bad blinded message), `limit`. */
  readonly code: "key" | "input" | "limit";
  constructor(code: "key" | "input" | "limit", message: string) {
    super(message);
    this.name = "IssueError";
    this.code = code;
  }
}

/** Outcome of a redemption. */
export type Redemption =
  | { ok: true; keyId: string }
  | {
    ok: false;
    reason: "malformed" | "unknown-key" | "challenge" | "signature" | "spent";
    detail: string;
  };

/** A token's check before its spend: what to spend, or why it is refused. */
export type Checked =
  | { ok: true; keyId: string; nonce: Uint8Array; expiresAt: number }
  | Extract<Redemption, { ok: false }>;

/** The refusal of a token spent before. */
export const SPENT_DETAIL = "The token was already spent";

/** Options for {@linkcode TokenService}. */
export interface TokenServiceOptions {
  ring: IssuerKeyRing;
  store: QuotaStore;
  spent: SpentSet;
  /** The issuer name in TokenChallenges (a server name). */
  issuerName: string;
  /** The free-quota rule (read at each issuance, so the operator can change it). */
  policy: () => QuotaPolicy;
  /** Most tokens one request may ask for. */
  maxPerRequest: number;
  /** Clock, Unix ms. */
  now?: () => number;
}

/**
 * Issues and redeems tokens.
 *
 * @example
 * ```ts
 * const svc = new TokenService({ ring, store, spent, issuerName: "node.example", policy, maxPerRequest: 100 });
 * const sigs = await svc.issue(accountHash(account), [request]);
 * const r = await svc.redeem(tokenBytes);
 * ```
 */
export class TokenService {
  readonly ring: IssuerKeyRing;
  readonly store: QuotaStore;
  readonly spent: SpentSet;
  readonly issuerName: string;
  readonly maxPerRequest: number;
  /** The serialized TokenChallenge tokens of this node are bound to. */
  readonly challenge: Uint8Array;
  /** SHA-256 of {@linkcode challenge}. */
  readonly challengeDigest: Uint8Array;
  #policy: () => QuotaPolicy;
  #now: () => number;
  /** Counters for metrics. */
  readonly stats = { issued: 0, redeemed: 0, refused: 0 };

  constructor(opts: TokenServiceOptions) {
    this.ring = opts.ring;
    this.store = opts.store;
    this.spent = opts.spent;
    this.issuerName = opts.issuerName;
    this.maxPerRequest = opts.maxPerRequest;
    this.#policy = opts.policy;
    this.#now = opts.now ?? Date.now;
    this.challenge = encodeTokenChallenge({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      issuerName: opts.issuerName,
      redemptionContext: new Uint8Array(0),
      originInfo: [],
    });
    this.challengeDigest = sha256(this.challenge);
  }

  /** The free-quota rule in force. */
  get policy(): QuotaPolicy {
    return this.#policy();
  }

  /** The `WWW-Authenticate` value of a 401 (RFC 9577 §2.1) naming the signing key. */
  wwwAuthenticate(): string {
    return formatWwwAuthenticate({
      challenge: this.challenge,
      tokenKey: this.ring.active().tokenKey,
    });
  }

  /** The issuer directory (RFC 9578 §4). */
  directory(issuerRequestUri: string): IssuerDirectory {
    return { "issuer-request-uri": issuerRequestUri, "token-keys": this.ring.directoryKeys() };
  }

  /**
   * Signs `requests` for an account, taking their number from its free quota and then its
   * credit (all or nothing).
   * @throws {IssueError} for a request naming another key, a bad blinded message or too many.
   * @throws {AccountError} for an unknown, disabled or exhausted account.
   */
  async issue(accountHashBytes: Uint8Array, requests: readonly TokenRequest[]): Promise<{
    blindSigs: Uint8Array[];
    reservation: Reservation;
  }> {
    if (requests.length === 0) throw new IssueError("input", "No token requests");
    if (requests.length > this.maxPerRequest) {
      throw new IssueError(
        "limit",
        `At most ${this.maxPerRequest} tokens per request, got ${requests.length}`,
      );
    }
    const key = this.ring.active();
    for (const [i, r] of requests.entries()) {
      if (r.tokenType !== TOKEN_TYPE_BLIND_RSA) {
        throw new IssueError("input", `Request ${i}: unsupported token type ${r.tokenType}`);
      }
      if (r.truncatedTokenKeyId !== key.truncatedId) {
        throw new IssueError(
          "key",
          `Request ${i} names a key this issuer does not sign with; fetch the issuer directory again`,
        );
      }
      if (r.blindedMsg.length !== key.sk.publicKey.modulusBytes) {
        throw new IssueError("input", `Request ${i}: blinded_msg has the wrong length`);
      }
      if (BigInt("0x" + toHex(r.blindedMsg)) >= key.sk.publicKey.n) {
        throw new IssueError("input", `Request ${i}: blinded_msg is not below the modulus`);
      }
    }
    const reservation = await this.store.reserve(
      accountHashBytes,
      requests.length,
      this.#now(),
      this.#policy(),
    );
    const blindSigs: Uint8Array[] = [];
    try {
      for (const [i, r] of requests.entries()) {
        blindSigs.push(blindSign(key.sk, r.blindedMsg));
        // Each signature takes ~1.6 ms of CPU: let other requests run every ~25 ms.
        if (i % 16 === 15) await new Promise((res) => setTimeout(res, 0));
      }
    } catch (err) {
      await this.store.refund(accountHashBytes, reservation);
      throw err;
    }
    this.stats.issued += blindSigs.length;
    return { blindSigs, reservation };
  }

  /**
   * Redeems one serialized token: checks its type, key, challenge and signature, then spends
   * its nonce. Exactly one of any number of concurrent redemptions of a token succeeds.
   */
  async redeem(tokenBytes: Uint8Array): Promise<Redemption> {
    const r = await this.#redeem(tokenBytes);
    this.counted(r.ok);
    return r;
  }

  async #redeem(tokenBytes: Uint8Array): Promise<Redemption> {
    const c = this.check(tokenBytes);
    if (!c.ok) return c;
    const fresh = await this.spent.spend(c.nonce, c.expiresAt);
    if (!fresh) return { ok: false, reason: "spent", detail: SPENT_DETAIL };
    return { ok: true, keyId: c.keyId };
  }

  /**
   * Checks a serialized token (type, key, challenge, signature) without spending it, for a spend
   * that rides in the message's own commit. The caller spends the returned nonce (kept until the
   * returned `expiresAt`) and counts the outcome with {@linkcode counted}.
   */
  check(tokenBytes: Uint8Array): Checked {
    let token;
    try {
      token = decodeToken(tokenBytes);
    } catch (err) {
      return { ok: false, reason: "malformed", detail: (err as Error).message };
    }
    const key = this.ring.verifying(token.tokenKeyId);
    if (key === undefined) {
      return {
        ok: false,
        reason: "unknown-key",
        detail: "The token was not issued by this node, or its key has expired",
      };
    }
    if (!equalBytes(token.challengeDigest, this.challengeDigest)) {
      return { ok: false, reason: "challenge", detail: "The token answers another challenge" };
    }
    if (!verify(key.sk.publicKey, tokenInput(token), token.authenticator)) {
      return { ok: false, reason: "signature", detail: "The token's signature is invalid" };
    }
    return { ok: true, keyId: key.idHex, nonce: token.nonce.slice(), expiresAt: key.expiresAt };
  }

  /** Counts a redemption decided outside {@linkcode redeem} (a spend in a message's commit). */
  counted(ok: boolean): void {
    if (ok) this.stats.redeemed++;
    else this.stats.refused++;
  }
}

export { AccountError };
