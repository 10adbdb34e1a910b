import assert from "node:assert/strict";
import { RSABSSA } from "@cloudflare/blindrsa-ts";
import {
  blind,
  BlindRsaError,
  emsaPssEncode,
  finalize,
  os2ip,
  rsaPublicKey,
  verify,
} from "./blind_rsa.ts";
import { fromBase64Url, fromHex, toHex, utf8 } from "./bytes.ts";

// The client's steps of RFC 9474 (Blind, Finalize, verification) against the published
// vector; the issuer's BlindSign is tested with the issuer (node/quota/rfc9474_test.ts).
const V = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/rfc9474_vectors.json", import.meta.url)),
) as Record<string, string>;
const h = (k: string) => fromHex(V[k]!, k);
const pk = rsaPublicKey(os2ip(h("n")), os2ip(h("e")));

Deno.test("RFC 9474 A.3 RSABSSA-SHA384-PSS-Deterministic: the client's steps match the vector", () => {
  assert.equal(pk.modulusBits, 4096);
  const msg = h("msg");
  // Deterministic variant: identity preparation, input_msg = msg.
  assert.equal(toHex(emsaPssEncode(msg, pk.modulusBits - 1, h("salt"))), V.encoded_msg);
  const { blindedMsg, inv } = blind(pk, msg, { salt: h("salt"), inv: h("inv") });
  assert.equal(toHex(blindedMsg), V.blinded_msg);
  assert.equal(toHex(inv), V.inv);
  const sig = finalize(pk, msg, h("blind_sig"), inv);
  assert.equal(toHex(sig), V.sig);
  assert.equal(verify(pk, msg, sig), true);
});

Deno.test("RFC 9474 verify refuses a changed message, signature or salt length", () => {
  const msg = h("msg");
  const sig = h("sig");
  assert.equal(verify(pk, msg, sig), true);
  const msg2 = msg.slice();
  msg2[0]! ^= 1;
  assert.equal(verify(pk, msg2, sig), false);
  const sig2 = sig.slice();
  sig2[100]! ^= 0x40;
  assert.equal(verify(pk, msg, sig2), false);
  assert.equal(verify(pk, msg, sig, 0), false);
  assert.equal(verify(pk, msg, sig.subarray(1)), false);
});

Deno.test("RFC 9474 finalize refuses a wrong or truncated blind signature", () => {
  const { inv } = blind(pk, h("msg"), { salt: h("salt"), inv: h("inv") });
  const bad = h("blind_sig");
  bad[5]! ^= 1;
  assert.throws(() => finalize(pk, h("msg"), bad, inv), BlindRsaError);
  assert.throws(() => finalize(pk, h("msg"), h("blind_sig").subarray(1), inv), BlindRsaError);
  assert.throws(() => rsaPublicKey(3233n, 17n), RangeError);
});

Deno.test("RFC 9474 interop: @cloudflare/blindrsa-ts signs what we blind, we finalize", async () => {
  const suite = RSABSSA.SHA384.PSS.Deterministic();
  const { privateKey, publicKey } = await suite.generateKey({
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  });
  const jwk = await crypto.subtle.exportKey("jwk", publicKey);
  const ours = rsaPublicKey(
    os2ip(fromBase64Url(jwk.n!, "n")),
    os2ip(fromBase64Url(jwk.e!, "e")),
  );
  const msg = utf8.encode("subspace token input");
  const { blindedMsg, inv } = blind(ours, msg);
  const blindSig = await suite.blindSign(privateKey, blindedMsg);
  const sig = finalize(ours, msg, blindSig, inv);
  assert.equal(await suite.verify(publicKey, sig, msg), true);
  // And the reference client's signature verifies here.
  const ref = await suite.blind(publicKey, msg);
  const refSig = await suite.finalize(
    publicKey,
    msg,
    await suite.blindSign(privateKey, ref.blindedMsg),
    ref.inv,
  );
  assert.equal(verify(ours, msg, refSig), true);
});
