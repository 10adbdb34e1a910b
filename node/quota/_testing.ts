/**
 * Test helpers of the quota feature (used only by tests).
 *
 * @module
 */
import assert from "node:assert/strict";
import { postJson, randomPayload, randomTag } from "../testing.ts";
import { blind, finalize } from "./blind_rsa.ts";
import {
  decodeTokenKey,
  encodeToken,
  encodeTokenRequest,
  parseIssuerDirectory,
  parseWwwAuthenticate,
  tokenInput,
  tokenKeyId,
} from "../../client/mod.ts";

const b64u = (b: Uint8Array) => b.toBase64({ alphabet: "base64url" });

/**
 * A minimal wallet for tests: reads the issuer directory and the 401 challenge of an unpaid
 * POST, blinds `n` token inputs, fetches them for `account` and finalizes them.
 */
export async function tokensFrom(
  fetchFn: (r: Request) => Promise<Response>,
  BASE: string,
  account: string,
  n: number,
): Promise<Uint8Array[]> {
  const dir = parseIssuerDirectory(
    await (await fetchFn(new Request(BASE + "/.well-known/private-token-issuer-directory"))).json(),
  );
  const keyBytes = Uint8Array.fromBase64(dir["token-keys"].at(-1)!["token-key"], {
    alphabet: "base64url",
  });
  const pk = decodeTokenKey(keyBytes);
  const keyId = tokenKeyId(keyBytes);
  const unauth = await fetchFn(
    postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(8) }),
  );
  assert.equal(unauth.status, 401);
  const [challenge] = parseWwwAuthenticate(unauth.headers.get("www-authenticate")!);
  await unauth.body?.cancel();
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", challenge!.challenge as Uint8Array<ArrayBuffer>),
  );
  const pending = Array.from({ length: n }, () => {
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const input = tokenInput({ tokenType: 2, nonce, challengeDigest: digest, tokenKeyId: keyId });
    const { blindedMsg, inv } = blind(pk, input);
    return { nonce, input, inv, blindedMsg };
  });
  const res = await fetchFn(postJson(BASE, "/v1/tokens", {
    token_requests: pending.map((p) =>
      b64u(
        encodeTokenRequest({
          tokenType: 2,
          truncatedTokenKeyId: keyId[31]!,
          blindedMsg: p.blindedMsg,
        }),
      )
    ),
  }, { authorization: `Bearer ${account}` }));
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return pending.map((p, i) =>
    encodeToken({
      tokenType: 2,
      nonce: p.nonce,
      challengeDigest: digest,
      tokenKeyId: keyId,
      authenticator: finalize(
        pk,
        p.input,
        Uint8Array.fromBase64(body.token_responses[i], { alphabet: "base64url" }),
        p.inv,
      ),
    })
  );
}

/** Creates an account through the admin API; returns its number (hex). */
export async function adminAccount(
  fetchFn: (r: Request) => Promise<Response>,
  BASE: string,
  adminToken: string,
): Promise<string> {
  const r = await fetchFn(
    new Request(BASE + "/admin/api/accounts", {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}` },
    }),
  );
  assert.equal(r.status, 201);
  return (await r.json()).account;
}
