/**
 * The token quota: `POST /v1/messages` costs one Privacy Pass token (RFC 9577
 * `Authorization: PrivateToken token=...`); a missing, malformed, forged or spent token is
 * refused with 401 and the challenge to get a good one.
 *
 * @module
 */
import { HttpError } from "../errors.ts";
import type { Quota } from "../quota.ts";
import { parseAuthorization } from "../../client/mod.ts";
import type { TokenService } from "./tokens.ts";

/**
 * The quota policy that redeems one token per message.
 *
 * @example
 * ```ts ignore
 * core.provide(QUOTA_POLICY, tokenQuota(tokens));
 * ```
 */
export function tokenQuota(tokens: TokenService): Quota {
  return {
    mode: "tokens",
    async charge(req) {
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
      const r = await tokens.redeem(token);
      if (!r.ok) {
        throw new HttpError(401, `Token refused: ${r.detail}`, {
          headers: challenge,
          field: "authorization",
          type: `https://subspace.invalid/problems/token-${r.reason}`,
        });
      }
    },
  };
}
