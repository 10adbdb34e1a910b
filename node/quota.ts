/**
 * How a message is paid for. `open` accepts every message; the quota feature (`node/quota/`)
 * charges Privacy Pass tokens behind the same interface (the `QUOTA_POLICY` service).
 *
 * @module
 */

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

/** A quota policy. `charge` throws an `HttpError` (401/402/403) to refuse. */
export interface Quota {
  readonly mode: string;
  charge(req: ChargeRequest): Promise<void>;
}

/** Accepts every message without a token. */
export const openQuota: Quota = {
  mode: "open",
  charge: () => Promise.resolve(),
};
