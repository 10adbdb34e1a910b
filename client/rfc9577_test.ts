import assert from "node:assert/strict";
import { fromHex, toHex } from "./bytes.ts";
import {
  decodeTokenChallenge,
  formatAuthorization,
  formatWwwAuthenticate,
  parseAuthHeader,
  parseAuthorization,
  parseWwwAuthenticate,
} from "./token_wire.ts";
import {
  AuthorizationHeader,
  TOKEN_TYPES,
  WWWAuthenticateHeader,
} from "@cloudflare/privacypass-ts";

// RFC 9577 Appendix A, test vector 1 (a single type 0x0002 challenge; its extra
// `unknownChallengeAttribute` must be ignored).
const CHALLENGE_HEX =
  "0002000e6973737565722e6578616d706c65208a3e83a33d98005d2f30bef419fa6bf4cd5c6005e36b1285bbb4ccd40fa4b383000e6f726967696e2e6578616d706c65";
const KEY_PREFIX_HEX = "30820152303d06092a864886f70d01010a3030";
const HEADER =
  'PrivateToken challenge="AAIADmlzc3Vlci5leGFtcGxlIIo-g6M9mABdLzC-9Bn6a_TNXGAF42sShbu0zNQPpLODAA5vcmlnaW4uZXhhbXBsZQ==", token-key="MIIBUjA9BgkqhkiG9w0BAQowMKANMAsGCWCGSAFlAwQCAqEaMBgGCSqGSIb3DQEBCDALBglghkgBZQMEAgKiAwIBMAOCAQ8AMIIBCgKCAQEAyxrta2qV9bHOATpM_KsluUsuZKIwNOQlCn6rQ8DfOowSmTrxKxEZCNS0cb7DHUtsmtnN2pBhKi7pA1I-beWiJNawLwnlw3TQz-Adj1KcUAp4ovZ5CPpoK1orQwyB6vGvcte155T8mKMTknaHl1fORTtSbvm_bOuZl5uEI7kPRGGiKvN6qwz1cz91l6vkTTHHMttooYHGy75gfYwOUuBlX9mZbcWE7KC-h6-814ozfRex26noKLvYHikTFxROf_ifVWGXCbCWy7nqR0zq0mTCBz_kl0DAHwDhCRBgZpg9IeX4PwhuLoI8h5zUPO9wDSo1Kpur1hLQPK0C2xNLfiJaXwIDAQAB",unknownChallengeAttribute="ignore-me", max-age="10"';

Deno.test("RFC 9577 A vector 1: WWW-Authenticate parses to the challenge and key", () => {
  const [c, ...rest] = parseWwwAuthenticate(HEADER);
  assert.equal(rest.length, 0);
  assert.equal(toHex(c!.challenge), CHALLENGE_HEX);
  assert.ok(toHex(c!.tokenKey).startsWith(KEY_PREFIX_HEX));
  assert.equal(c!.tokenKey.length, 0x152 + 4);
  assert.equal(c!.maxAge, 10);
  const challenge = decodeTokenChallenge(c!.challenge);
  assert.deepEqual(challenge.originInfo, ["origin.example"]);
  assert.equal(challenge.redemptionContext.length, 32);
});

Deno.test("RFC 9577 our WWW-Authenticate and Authorization round trip through the reference parser", () => {
  const challenge = fromHex(CHALLENGE_HEX);
  const [c] = parseWwwAuthenticate(HEADER);
  const header = formatWwwAuthenticate({ challenge, tokenKey: c!.tokenKey, maxAge: 60 });
  const [ref] = WWWAuthenticateHeader.parse(header);
  assert.deepEqual(ref!.challenge.serialize(), challenge);
  assert.deepEqual(ref!.tokenKey, c!.tokenKey);
  assert.equal(ref!.maxAge, 60);

  const token = new Uint8Array(2 + 32 + 32 + 32 + 256).fill(7);
  token[0] = 0;
  token[1] = 2;
  const auth = formatAuthorization(token);
  assert.deepEqual(parseAuthorization(auth), token);
  const [refAuth] = AuthorizationHeader.parse(TOKEN_TYPES.BLIND_RSA, auth);
  assert.deepEqual(refAuth!.token.serialize(), token);
  // Reference-formatted header parses here.
  assert.deepEqual(parseAuthorization(refAuth!.toString()), token);
});

Deno.test("RFC 9577 header parsing: several schemes, unpadded base64url, errors", () => {
  const items = parseAuthHeader('Basic realm="x", PrivateToken token=AAE, Bearer abc');
  assert.deepEqual(items.map((i) => i.scheme), ["Basic", "PrivateToken", "Bearer"]);
  assert.deepEqual(parseAuthorization("PrivateToken token=AAE"), new Uint8Array([0, 1]));
  assert.deepEqual(parseAuthorization('privatetoken token="AAE="'), new Uint8Array([0, 1]));
  assert.equal(parseAuthorization("Bearer abc"), undefined);
  assert.throws(() => parseAuthorization("PrivateToken foo=1"), /token= missing/);
  assert.throws(() => parseAuthorization('PrivateToken token="AA!"'), RangeError);
  assert.throws(() => parseAuthHeader('PrivateToken token="unterminated'), RangeError);
  assert.throws(() => parseWwwAuthenticate("PrivateToken challenge=AAAA"), /token-key/);
});
