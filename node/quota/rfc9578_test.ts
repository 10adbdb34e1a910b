import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { fromHex, toHex } from "./_bytes.ts";
import { blind, blindSign, finalize, rsaPrivateKey, verify } from "./blind_rsa.ts";
import {
  decodeToken,
  decodeTokenChallenge,
  decodeTokenKey,
  decodeTokenRequest,
  decodeTokenResponse,
  encodeToken,
  encodeTokenChallenge,
  encodeTokenKey,
  encodeTokenRequest,
  parseIssuerDirectory,
  sha256,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  tokenKeyId,
} from "./token_wire.ts";
import { publicVerif, TokenChallenge as RefChallenge } from "@cloudflare/privacypass-ts";

interface Vector {
  token_challenge: string;
  nonce: string;
  blind: string;
  salt: string;
  token_request: string;
  token_response: string;
  token: string;
}
const FILE = JSON.parse(
  await Deno.readTextFile(new URL("../../testdata/rfc9578_type2_vectors.json", import.meta.url)),
) as { skS: string; pkS: string; vectors: Vector[] };

const sk = rsaPrivateKey(createPrivateKey(new TextDecoder().decode(fromHex(FILE.skS))));

Deno.test("RFC 9578 §6.5 token key: RSASSA-PSS SPKI and key id match the vectors", () => {
  const spki = encodeTokenKey(sk.publicKey);
  assert.equal(toHex(spki), FILE.pkS);
  assert.equal(
    toHex(tokenKeyId(spki)),
    "ca572f8982a9ca248a3056186322d93ca147266121ddeb5632c07f1f71cd2708",
  );
  const back = decodeTokenKey(spki);
  assert.equal(back.n, sk.publicKey.n);
  assert.equal(back.e, sk.publicKey.e);
  assert.throws(() => decodeTokenKey(spki.subarray(0, 100)), RangeError);
});

for (const [i, v] of FILE.vectors.entries()) {
  Deno.test(`RFC 9578 A.2 vector ${i + 1}: request, response and token byte for byte`, () => {
    const pk = sk.publicKey;
    const spki = encodeTokenKey(pk);
    const keyId = tokenKeyId(spki);
    const challengeBytes = fromHex(v.token_challenge);
    const challenge = decodeTokenChallenge(challengeBytes);
    assert.equal(challenge.tokenType, TOKEN_TYPE_BLIND_RSA);
    assert.equal(challenge.issuerName, "issuer.example");
    assert.deepEqual(encodeTokenChallenge(challenge), challengeBytes);

    // Client (RFC 9578 §6.1): token_input, blind, TokenRequest.
    const input = tokenInput({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: fromHex(v.nonce),
      challengeDigest: sha256(challengeBytes),
      tokenKeyId: keyId,
    });
    const { blindedMsg, inv } = blind(pk, input, { salt: fromHex(v.salt), r: fromHex(v.blind) });
    const request = encodeTokenRequest({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      truncatedTokenKeyId: keyId[31]!,
      blindedMsg,
    });
    assert.equal(toHex(request), v.token_request);

    // Issuer (RFC 9578 §6.2).
    const parsed = decodeTokenRequest(request);
    assert.equal(parsed.truncatedTokenKeyId, keyId[31]);
    const blindSig = blindSign(sk, parsed.blindedMsg);
    assert.equal(toHex(blindSig), v.token_response);

    // Client finalization (RFC 9578 §6.3) and origin verification (§6.4).
    const authenticator = finalize(pk, input, decodeTokenResponse(blindSig), inv);
    const token = encodeToken({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: fromHex(v.nonce),
      challengeDigest: sha256(challengeBytes),
      tokenKeyId: keyId,
      authenticator,
    });
    assert.equal(toHex(token), v.token);
    const t = decodeToken(fromHex(v.token));
    assert.equal(verify(pk, tokenInput(t), t.authenticator), true);
  });
}

Deno.test("RFC 9578 parsers refuse truncated, padded and foreign-type input", () => {
  const v = FILE.vectors[0]!;
  const token = fromHex(v.token);
  assert.throws(() => decodeToken(token.subarray(0, token.length - 1)), /authenticator/);
  assert.throws(() => decodeToken(new Uint8Array([...token, 0])), /trailing/);
  const other = token.slice();
  other[1] = 0x01;
  assert.throws(() => decodeToken(other), /token_type/);
  const req = fromHex(v.token_request);
  assert.throws(() => decodeTokenRequest(req.subarray(0, 100)), RangeError);
  assert.throws(() => decodeTokenResponse(new Uint8Array(255)), RangeError);
  assert.throws(() => decodeTokenChallenge(fromHex("0002000e")), RangeError);
});

Deno.test("RFC 9578 §4 issuer directory parsing ignores unknown members", () => {
  const d = parseIssuerDirectory({
    "issuer-request-uri": "/v1/tokens",
    "token-keys": [{ "token-type": 2, "token-key": "AAAA", "not-before": 5, extra: 1 }],
    extra: true,
  });
  assert.equal(d["issuer-request-uri"], "/v1/tokens");
  assert.deepEqual(d["token-keys"], [{ "token-type": 2, "token-key": "AAAA", "not-before": 5 }]);
  assert.throws(() => parseIssuerDirectory({ "token-keys": [] }), RangeError);
});

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
  assert.deepEqual(t.challengeDigest, sha256(challenge.serialize()));
  assert.equal(verify(sk.publicKey, tokenInput(t), t.authenticator), true);
});
