import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { fromHex, os2ip, toBase64Url, toHex, utf8 } from "../../client/mod.ts";
import { blind, BlindRsaError, blindSign, finalize, rsaPrivateKey, verify } from "./blind_rsa.ts";
import { RSABSSA } from "@cloudflare/blindrsa-ts";

// The issuer's step of RFC 9474 (BlindSign with node:crypto) against the published vector;
// the client's steps are tested in client/rfc9474_test.ts.
const V = JSON.parse(
  await Deno.readTextFile(new URL("../../testdata/rfc9474_vectors.json", import.meta.url)),
) as Record<string, string>;
const h = (k: string) => fromHex(V[k]!, k);

function vectorPrivateKey() {
  const n = os2ip(h("n")), p = os2ip(h("p")), q = os2ip(h("q")), d = os2ip(h("d"));
  const e = os2ip(h("e"));
  const b64 = (x: bigint) => {
    let hex = x.toString(16);
    if (hex.length % 2) hex = "0" + hex;
    return toBase64Url(fromHex(hex), false);
  };
  const inv = (a: bigint, m: bigint) => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1) [r0, r1, s0, s1] = [r1, r0 % r1, s1, s0 - (r0 / r1) * s1];
    return ((s0 % m) + m) % m;
  };
  return createPrivateKey({
    format: "jwk",
    key: {
      kty: "RSA",
      n: b64(n),
      e: b64(e),
      d: b64(d),
      p: b64(p),
      q: b64(q),
      dp: b64(d % (p - 1n)),
      dq: b64(d % (q - 1n)),
      qi: b64(inv(q, p)),
    },
  });
}

Deno.test("RFC 9474 A.3 RSABSSA-SHA384-PSS-Deterministic: BlindSign gives the vector's blind_sig", () => {
  const sk = rsaPrivateKey(vectorPrivateKey());
  const pk = sk.publicKey;
  assert.equal(pk.n, os2ip(h("n")));
  assert.equal(pk.modulusBits, 4096);
  const blindSig = blindSign(sk, h("blinded_msg"));
  assert.equal(toHex(blindSig), V.blind_sig);
  // The whole exchange with the client half gives the vector's signature.
  const { blindedMsg, inv } = blind(pk, h("msg"), { salt: h("salt"), inv: h("inv") });
  assert.equal(toHex(blindedMsg), V.blinded_msg);
  const sig = finalize(pk, h("msg"), blindSign(sk, blindedMsg), inv);
  assert.equal(toHex(sig), V.sig);
  assert.equal(verify(pk, h("msg"), sig), true);
});

Deno.test("RFC 9474 blindSign refuses out-of-range input and finalize refuses a bad signature", () => {
  const sk = rsaPrivateKey(vectorPrivateKey());
  const pk = sk.publicKey;
  assert.throws(() => blindSign(sk, new Uint8Array(10)), RangeError);
  assert.throws(() => blindSign(sk, new Uint8Array(pk.modulusBytes).fill(0xff)), RangeError);
  const { blindedMsg, inv } = blind(pk, h("msg"));
  const bad = blindSign(sk, blindedMsg);
  bad[5]! ^= 1;
  assert.throws(() => finalize(pk, h("msg"), bad, inv), BlindRsaError);
});

Deno.test("RFC 9474 round trip on a fresh 2048-bit key, and interop with @cloudflare/blindrsa-ts", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const sk = rsaPrivateKey(privateKey);
  const msg = utf8.encode("subspace token input");
  const { blindedMsg, inv } = blind(sk.publicKey, msg);
  const sig = finalize(sk.publicKey, msg, blindSign(sk, blindedMsg), inv);
  assert.equal(verify(sk.publicKey, msg, sig), true);

  // The reference client blinds; our issuer signs; the reference client finalizes.
  const suite = RSABSSA.SHA384.PSS.Deterministic();
  const spki = publicKey.export({ format: "der", type: "spki" });
  const cryptoKey = await crypto.subtle.importKey(
    "spki",
    new Uint8Array(spki),
    { name: "RSA-PSS", hash: "SHA-384" },
    true,
    ["verify"],
  );
  const ref = await suite.blind(cryptoKey, msg);
  const refSig = await suite.finalize(cryptoKey, msg, blindSign(sk, ref.blindedMsg), ref.inv);
  assert.equal(verify(sk.publicKey, msg, refSig), true);
  assert.equal(await suite.verify(cryptoKey, sig, msg), true);
});
