/**
 * The token quota: `POST /v1/messages` costs one Privacy Pass token (RFC 9577
 * `Authorization: PrivateToken token=...`); a missing, malformed, forged or spent token is
 * refused with 401 and the challenge to get a good one.
 *
 * @module
 */
import { HttpError } from "../errors.ts";
import type { Charge, ChargeRequest, Quota } from "../quota.ts";
import { parseAuthorization } from "../../client/mod.ts";
import { SPENT_DETAIL, type TokenService } from "./tokens.ts";

/**
 * The quota policy that redeems one token per message: checked here, spent in the message's
 * own commit.
 *
 * @example
 * ```ts ignore
 * core.provide(QUOTA_POLICY, tokenQuota(tokens));
 * ```
 */
export function tokenQuota(tokens: TokenService): Quota {
  return {
    mode: "tokens",
    // No I/O until the commit: a refusal rejects the promise.
    charge: (req) => new Promise((resolve) => resolve(check(req))),
  };

  function check(req: ChargeRequest): Charge {
    const challenge = { "www-authenticate": tokens.wwwAuthenticate() };
    const header = req.request.headers.get("authorization");
    let token: Uint8Array | undefined;
    try {
      token = header === null ? undefined : parseAuthorization(header);
    } catch (err) {
      throw new HttpError(401, `Cannot parse the PrivateToken: ${(err as Error).message}`, {
        headers: challenge,
        field: "authorization",
      });
    }
    if (token === undefined) {
      throw new HttpError(
        401,
        "Posting costs one token: send 'Authorization: PrivateToken token=...' (see GET /v1/pricing)",
        { headers: challenge, field: "authorization" },
      );
    }
    const refused = (reason: string, detail: string) =>
      new HttpError(401, `Token refused: ${detail}`, {
        headers: challenge,
        field: "authorization",
        type: `https://subspace.invalid/problems/token-${reason}`,
      });
    const c = tokens.check(token);
    if (!c.ok || !tokens.spent.claim(c.nonce)) {
      tokens.counted(false);
      throw c.ok ? refused("spent", SPENT_DETAIL) : refused(c.reason, c.detail);
    }
    // The nonce is spent in the message's own commit.
    const nonce = c.nonce;
    return {
      spend: { nonce, expiresAt: c.expiresAt },
      settle(result) {
        if (result === "failed") {
          tokens.spent.release(nonce);
          return undefined;
        }
        tokens.counted(result === "stored");
        return result === "spent" ? refused("spent", SPENT_DETAIL) : undefined;
      },
    };
  }
}
