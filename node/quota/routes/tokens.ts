/**
 * Token issuance: `GET /.well-known/private-token-issuer-directory` (RFC 9578 §4) and
 * `POST /v1/tokens`, either one RFC 9578 `application/private-token-request` or a JSON batch
 * `{token_requests: [base64url, ...]}`, paid from the account's free quota, then its credit.
 *
 * @module
 */
import type { Hono } from "hono";
import { readBodyLimited } from "../../body.ts";
import { badRequest, HttpError } from "../../errors.ts";
import type { AppEnv } from "../../feature.ts";
import { fromBase64Url, toBase64Url } from "../../../client/mod.ts";
import { accountFromRequest } from "../account_auth.ts";
import { AccountError } from "../store.ts";
import {
  decodeTokenRequest,
  ISSUER_DIRECTORY_MEDIA_TYPE,
  ISSUER_DIRECTORY_PATH,
  TOKEN_REQUEST_MEDIA_TYPE,
  TOKEN_RESPONSE_MEDIA_TYPE,
  type TokenRequest,
} from "../../../client/mod.ts";
import { IssueError } from "../tokens.ts";
import { type QuotaRoutesContext, readJson } from "./_shared.ts";

/** Turns a refused issuance into its HTTP error (403 account, 402 exhausted, 409 key). */
function issueError(err: unknown): never {
  if (err instanceof AccountError) {
    if (err.code === "unknown") {
      throw new HttpError(403, "Unknown account", { field: "authorization" });
    }
    if (err.code === "disabled") {
      throw new HttpError(403, "This account is disabled", { field: "authorization" });
    }
    throw new HttpError(
      402,
      `${err.message}. Buy more: POST /v1/invoices (see GET /v1/pricing)`,
      { type: "https://subspace.invalid/problems/quota-exhausted" },
    );
  }
  if (err instanceof IssueError) {
    throw new HttpError(err.code === "key" ? 409 : 400, err.message, {
      field: "token_requests",
    });
  }
  throw err;
}

/** Adds the issuer directory and `POST /v1/tokens`. */
export function tokenRoutes(app: Hono<AppEnv>, q: QuotaRoutesContext): void {
  const { tokens } = q;
  const maxPerRequest = q.config.maxTokensPerRequest;

  app.get(ISSUER_DIRECTORY_PATH, (c) => {
    c.header("content-type", ISSUER_DIRECTORY_MEDIA_TYPE);
    c.header("cache-control", "public, max-age=300");
    return c.body(JSON.stringify(tokens.directory("/v1/tokens")));
  });

  app.post("/v1/tokens", async (c) => {
    const hash = accountFromRequest(c.req.raw);
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type === TOKEN_REQUEST_MEDIA_TYPE) {
      let request: TokenRequest;
      try {
        request = decodeTokenRequest(await readBodyLimited(c.req.raw, 4096, "Token request"));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw badRequest("body", (err as Error).message);
      }
      const { blindSigs } = await tokens.issue(hash, [request]).catch(issueError);
      return c.body(blindSigs[0]! as Uint8Array<ArrayBuffer>, 200, {
        "content-type": TOKEN_RESPONSE_MEDIA_TYPE,
      });
    }
    if (type !== "application/json") {
      throw new HttpError(
        415,
        `Expected content-type ${TOKEN_REQUEST_MEDIA_TYPE} or application/json, got '${
          type || "none"
        }'`,
        { field: "content-type" },
      );
    }
    const body = await readJson(c.req.raw);
    const list = body.token_requests;
    if (!Array.isArray(list) || list.length === 0) {
      throw badRequest(
        "token_requests",
        "token_requests must be a non-empty array of base64url TokenRequests",
      );
    }
    if (list.length > maxPerRequest) {
      throw badRequest(
        "token_requests",
        `At most ${maxPerRequest} token requests per call, got ${list.length}`,
      );
    }
    const requests = list.map((item, i) => {
      try {
        return decodeTokenRequest(fromBase64Url(String(item), `token_requests[${i}]`));
      } catch (err) {
        throw badRequest("token_requests", `token_requests[${i}]: ${(err as Error).message}`);
      }
    });
    const { blindSigs, reservation } = await tokens.issue(hash, requests).catch(issueError);
    return c.json({
      token_responses: blindSigs.map((s) => toBase64Url(s)),
      free_remaining: reservation.freeLeft,
      credit: reservation.creditLeft,
    });
  });
}
