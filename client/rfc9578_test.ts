import assert from "node:assert/strict";
import { blind, finalize, verify } from "./blind_rsa.ts";
import { fromHex, toHex } from "./bytes.ts";
import {
  challengeDigest,
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
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  tokenKeyId,
} from "./token_wire.ts";
import { RFC9578 } from "../testdata/rfc9578_vectors.ts";

// The client's side of RFC 9578 type 0x0002 issuance (token key, TokenRequest, finalization,
// Token) against the published vectors; the issuer's side is tested in
// node/quota/rfc9578_test.ts.
const FILE = RFC9578;
const spki = fromHex(FILE.pkS, "pkS");
const pk = decodeTokenKey(spki);

Deno.test("RFC 9578 §6.5 token key: RSASSA-PSS SPKI parses, re-encodes and has the key id", () => {
  assert.equal(pk.modulusBits, 2048);
  assert.equal(toHex(encodeTokenKey(pk)), FILE.pkS);
  assert.equal(
    toHex(tokenKeyId(spki)),
    "ca572f8982a9ca248a3056186322d93ca147266121ddeb5632c07f1f71cd2708",
  );
  assert.throws(() => decodeTokenKey(spki.subarray(0, 100)), RangeError);
  assert.throws(() => decodeTokenKey(new Uint8Array([...spki, 0])), /trailing/);
});

for (const [i, v] of FILE.vectors.entries()) {
  Deno.test(`RFC 9578 A.2 vector ${i + 1}: the client's request and token byte for byte`, () => {
    const keyId = tokenKeyId(spki);
    const challengeBytes = fromHex(v.token_challenge);
    const challenge = decodeTokenChallenge(challengeBytes);
    assert.equal(challenge.tokenType, TOKEN_TYPE_BLIND_RSA);
    assert.equal(challenge.issuerName, "issuer.example");
    assert.deepEqual(encodeTokenChallenge(challenge), challengeBytes);

    // RFC 9578 §6.1: token_input, blind, TokenRequest.
    const input = tokenInput({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: fromHex(v.nonce),
      challengeDigest: challengeDigest(challengeBytes),
      tokenKeyId: keyId,
    });
    const { blindedMsg, inv } = blind(pk, input, { salt: fromHex(v.salt), r: fromHex(v.blind) });
    const request = encodeTokenRequest({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      truncatedTokenKeyId: keyId[31]!,
      blindedMsg,
    });
    assert.equal(toHex(request), v.token_request);
    assert.deepEqual(decodeTokenRequest(request).blindedMsg, blindedMsg);

    // RFC 9578 §6.3 finalization of the issuer's answer, §6.4 verification.
    const authenticator = finalize(pk, input, decodeTokenResponse(fromHex(v.token_response)), inv);
    const token = encodeToken({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: fromHex(v.nonce),
      challengeDigest: challengeDigest(challengeBytes),
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
