/**
 * Reading the account a wallet acts for: `Authorization: Bearer <account number>` on
 * `GET /v1/account`, `POST /v1/tokens` and `POST /v1/invoices`, or an account number in a path.
 *
 * @module
 */
import { bearerToken } from "../admin_guard.ts";
import { badRequest, HttpError } from "../errors.ts";
import { accountHash, parseAccountNumber } from "./tokens.ts";

/**
 * The hash of an account number given as text, or a 400 naming `field`.
 *
 * @example
 * ```ts ignore
 * const hash = accountHashParam(c.req.param("account"), "account");
 * ```
 */
export function accountHashParam(text: string | undefined, field: string): Uint8Array {
  try {
    return accountHash(parseAccountNumber(text ?? ""));
  } catch (err) {
    throw badRequest(field, (err as Error).message);
  }
}

/**
 * The hash of the account number a request carries as its bearer credential.
 *
 * @example
 * ```ts ignore
 * app.get("/v1/account", (c) => show(accountFromRequest(c.req.raw)));
 * ```
 * @throws {HttpError} 401 without the header, 400 when it is not an account number.
 */
export function accountFromRequest(req: Request): Uint8Array {
  const text = bearerToken(req);
  if (text === undefined) {
    throw new HttpError(401, "Send the account number as 'Authorization: Bearer <account>'", {
      headers: { "www-authenticate": 'Bearer realm="subspace-account"' },
      field: "authorization",
    });
  }
  return accountHashParam(text, "authorization");
}
