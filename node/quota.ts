/**
 * How a message is paid for. `open` accepts every message; the quota feature (`node/quota/`)
 * charges Privacy Pass tokens behind the same interface (the `QUOTA_POLICY` service).
 *
 * @module
 */
import type { HttpError } from "./errors.ts";

/** What the quota check sees of a message about to be stored. */
export interface ChargeRequest {
  /** The HTTP request (for its `Authorization` header). */
  request: Request;
  /** Message id (hex). */
  id: string;
  /** Payload size in bytes. */
  size: number;
  /** Requested TTL. */
  ttlSeconds: number;
}

/**
 * A payment that completes in the message's own commit: the nonce the store records with the
 * message (see `NewMessage.spend`), and what to do once the commit settled.
 */
export interface Charge {
  /** The one-time nonce, kept until `expiresAt` (Unix ms). */
  spend: { nonce: Uint8Array; expiresAt: number };
  /**
   * Called once with how the commit went: `stored` (the nonce is recorded; the message was
   * stored or was already there), `spent` (the nonce was recorded before: the message was not
   * stored; returns the error to answer with) or `failed` (nothing was recorded).
   */
  settle(result: "stored" | "spent" | "failed"): HttpError | undefined;
}

/**
 * A quota policy. `charge` throws an `HttpError` (401/402/403) to refuse, or returns a
 * {@linkcode Charge} to complete in the message's commit.
 */
export interface Quota {
  readonly mode: string;
  charge(req: ChargeRequest): Promise<Charge | void>;
}

/** Accepts every message without a token. */
export const openQuota: Quota = {
  mode: "open",
  charge: () => Promise.resolve(),
};
