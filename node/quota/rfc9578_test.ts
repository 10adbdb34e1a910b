import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { fromHex, toHex } from "../../client/mod.ts";
import { blind, blindSign, finalize, rsaPrivateKey, verify } from "./blind_rsa.ts";
import {
  challengeDigest,
  decodeToken,
  decodeTokenKey,
  decodeTokenRequest,
  decodeTokenResponse,
  encodeToken,
  encodeTokenChallenge,
  encodeTokenKey,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  tokenKeyId,
} from "../../client/mod.ts";
import { publicVerif, TokenChallenge as RefChallenge } from "@cloudflare/privacypass-ts";
import { RFC9578 } from "../../testdata/rfc9578_vectors.ts";

const FILE = RFC9578;

const sk = rsaPrivateKey(createPrivateKey(new TextDecoder().decode(fromHex(FILE.skS))));

Deno.test("RFC 9578 §6.5 the issuer's private key publishes the vectors' token key", () => {
  const spki = encodeTokenKey(sk.publicKey);
  assert.equal(toHex(spki), FILE.pkS);
  const back = decodeTokenKey(spki);
  assert.equal(back.n, sk.publicKey.n);
  assert.equal(back.e, sk.publicKey.e);
});

// The issuer's side of RFC 9578 type 0x0002 issuance against the published vectors; the
// client's side (request, finalization, parsers) is tested in client/rfc9578_test.ts.
for (const [i, v] of FILE.vectors.entries()) {
  Deno.test(`RFC 9578 A.2 vector ${i + 1}: the issuer answers the request byte for byte`, () => {
    const pk = sk.publicKey;
    const keyId = tokenKeyId(encodeTokenKey(pk));
    // Issuer (RFC 9578 §6.2).
    const parsed = decodeTokenRequest(fromHex(v.token_request));
    assert.equal(parsed.truncatedTokenKeyId, keyId[31]);
    const blindSig = blindSign(sk, parsed.blindedMsg);
    assert.equal(toHex(blindSig), v.token_response);

    // The client half (shared code) turns it into the vector's token, which verifies (§6.4).
    const input = tokenInput({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: fromHex(v.nonce),
      challengeDigest: challengeDigest(fromHex(v.token_challenge)),
      tokenKeyId: keyId,
    });
    const { inv } = blind(pk, input, { salt: fromHex(v.salt), r: fromHex(v.blind) });
    const token = encodeToken({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: fromHex(v.nonce),
      challengeDigest: challengeDigest(fromHex(v.token_challenge)),
      tokenKeyId: keyId,
      authenticator: finalize(pk, input, decodeTokenResponse(blindSig), inv),
    });
    assert.equal(toHex(token), v.token);
    const t = decodeToken(token);
    assert.equal(verify(pk, tokenInput(t), t.authenticator), true);
  });
}

Deno.test("RFC 9578 interop: @cloudflare/privacypass-ts client tokens verify against our issuer", async () => {
  const spki = encodeTokenKey(sk.publicKey);
  const challenge = new RefChallenge(TOKEN_TYPE_BLIND_RSA, "issuer.example", new Uint8Array(0), []);
  assert.deepEqual(
    challenge.serialize(),
    encodeTokenChallenge({
      tokenType: 2,
      issuerName: "issuer.example",
      redemptionContext: new Uint8Array(0),
      originInfo: [],
    }),
  );
  const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  const refRequest = await client.createTokenRequest(challenge, spki);
  const ours = decodeTokenRequest(refRequest.serialize());
  const blindSig = blindSign(sk, ours.blindedMsg);
  const refToken = await client.finalize(new publicVerif.TokenResponse(blindSig));
  const t = decodeToken(refToken.serialize());
  assert.deepEqual(t.tokenKeyId, tokenKeyId(spki));
  assert.deepEqual(t.challengeDigest, challengeDigest(challenge.serialize()));
  assert.equal(verify(sk.publicKey, tokenInput(t), t.authenticator), true);
});
