import assert from "node:assert/strict";
import * as secp from "@noble/secp256k1";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  generateIdentity,
  identityFromSecretKey,
  loadOrCreateIdentity,
  NODE_KEY_FILE,
  parsePublicKey,
  secp256k1Scheme,
} from "./identity.ts";
import { simulationScheme } from "./testing.ts";
import { hash160 } from "./id.ts";
import { toHex } from "../../client/mod.ts";

secp.hashes.hmacSha256 = (k, m) => hmac(sha256, k, m);
secp.hashes.sha256 = sha256;

Deno.test("node id is hash160 of the compressed public key", () => {
  const me = generateIdentity();
  assert.equal(me.publicKey.length, 33);
  assert.equal(me.id, toHex(hash160(me.publicKey)));
});

Deno.test("secp256k1 signatures interoperate with @noble/secp256k1 both ways", () => {
  const sk = secp.utils.randomSecretKey();
  const me = identityFromSecretKey(sk);
  const msg = new TextEncoder().encode("subspace");
  const ours = me.sign(msg);
  assert.equal(ours.length, 64);
  assert.ok(secp.verify(ours, msg, me.publicKey)); // low-S, SHA-256 prehash
  const theirs = secp.sign(msg, sk);
  assert.ok(secp256k1Scheme.verify(me.publicKey, msg, theirs));
  const bad = ours.slice();
  bad[10]! ^= 1;
  assert.equal(secp256k1Scheme.verify(me.publicKey, msg, bad), false);
  assert.equal(secp256k1Scheme.verify(generateIdentity().publicKey, msg, ours), false);
  assert.equal(secp256k1Scheme.verify(me.publicKey, msg, new Uint8Array(63)), false);
});

Deno.test("simulation scheme is keyed by the public key", () => {
  const a = generateIdentity(simulationScheme), b = generateIdentity(simulationScheme);
  const msg = new Uint8Array([1, 2, 3]);
  assert.ok(simulationScheme.verify(a.publicKey, msg, a.sign(msg)));
  assert.equal(simulationScheme.verify(b.publicKey, msg, a.sign(msg)), false);
});

Deno.test("parsePublicKey rejects non-points and bad encodings", () => {
  const me = generateIdentity();
  assert.deepEqual(parsePublicKey(me.publicKeyHex), me.publicKey);
  assert.throws(() => parsePublicKey("04" + "00".repeat(32)), RangeError);
  assert.throws(() => parsePublicKey("02" + "ff".repeat(32)), /not a point/);
});

Deno.test("key file is created with mode 0600, reused, and refused when readable by others", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await loadOrCreateIdentity(dir);
    const st = await Deno.stat(`${dir}/${NODE_KEY_FILE}`);
    assert.equal(st.mode! & 0o777, 0o600);
    const b = await loadOrCreateIdentity(dir);
    assert.equal(a.id, b.id);
    await Deno.chmod(`${dir}/${NODE_KEY_FILE}`, 0o644);
    await assert.rejects(() => loadOrCreateIdentity(dir), /chmod 600/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
