import assert from "node:assert/strict";
import { createECDH, hkdfSync } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  BUCKET_SIZES,
  bucketFor,
  ENVELOPE_OVERHEAD_BYTES,
  EnvelopeError,
  EnvelopeOpener,
  HEADER_BYTES,
  LENGTH_PREFIX_BYTES,
  makeTag,
  MAX_MESSAGE_BYTES,
  open,
  seal,
} from "./envelope.ts";
import { type EcdhBackend, loadNodeEcdh, nobleEcdh } from "./ecdh.ts";
import { concat, fromHex, toBase64, toHex, utf8 } from "./bytes.ts";
import { secp } from "./_secp.ts";
import { matchesPrefix } from "./stealth_address.ts";

interface Vector {
  name: string;
  scan_secret: string;
  scan_pubkey: string;
  prefix_bits: number;
  prefix: string;
  random_ephemeral_secret: string;
  random_tag: string;
  message?: string;
  message_pattern_length?: number;
  ephemeral_pubkey: string;
  shared_x: string;
  okm: string;
  tag: string;
  envelope_length: number;
  envelope?: string;
  envelope_sha256: string;
}

const { vectors }: { vectors: Vector[] } = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/envelope_vectors.json", import.meta.url)),
);

const nodeEcdh = await loadNodeEcdh();
if (nodeEcdh === undefined) throw new Error("node:crypto ECDH must be available under Deno");
const BACKENDS: EcdhBackend[] = [nobleEcdh, nodeEcdh];

function messageOf(v: Vector): Uint8Array {
  if (v.message !== undefined) return fromHex(v.message);
  return Uint8Array.from({ length: v.message_pattern_length! }, (_, i) => (i * 7 + 3) & 0xff);
}

function queue(...chunks: Uint8Array[]) {
  return (n: number) => {
    const c = chunks.shift();
    assert.ok(c !== undefined && c.length === n, `unexpected randomness request of ${n} bytes`);
    return c;
  };
}

function keysOf(v: Vector) {
  return { scanSecret: fromHex(v.scan_secret), scanPubkey: fromHex(v.scan_pubkey) };
}

Deno.test("vectors: intermediate values match an independent node:crypto computation", () => {
  for (const v of vectors) {
    const ecdh = createECDH("secp256k1");
    ecdh.setPrivateKey(fromHex(v.random_ephemeral_secret));
    assert.equal(ecdh.getPublicKey(null, "compressed").toString("hex"), v.ephemeral_pubkey);
    const shared = ecdh.computeSecret(fromHex(v.scan_pubkey));
    assert.equal(shared.toString("hex"), v.shared_x, v.name);
    const okm = hkdfSync(
      "sha256",
      shared,
      utf8.encode("subspace/envelope/v1"),
      concat(fromHex(v.ephemeral_pubkey), fromHex(v.scan_pubkey)),
      60,
    );
    assert.equal(toHex(new Uint8Array(okm)), v.okm, v.name);
    if (v.envelope !== undefined) {
      const env = fromHex(v.envelope);
      assert.equal(env[0], 1);
      assert.equal(toHex(env.subarray(1, 34)), v.ephemeral_pubkey);
      assert.equal(toHex(env.subarray(34, 38)), v.okm.slice(0, 8));
    }
  }
});

Deno.test("vectors: both ECDH backends seal to the exact bytes and open them", () => {
  assert.ok(vectors.length >= BUCKET_SIZES.length);
  for (const backend of BACKENDS) {
    for (const v of vectors) {
      const msg = messageOf(v);
      const { tag, envelope } = seal(
        {
          scanPubkey: fromHex(v.scan_pubkey),
          prefix: fromHex(v.prefix),
          prefixBits: v.prefix_bits,
        },
        msg,
        { random: queue(fromHex(v.random_ephemeral_secret), fromHex(v.random_tag)), ecdh: backend },
      );
      assert.equal(toHex(tag), v.tag, `${backend.name}: ${v.name}`);
      assert.equal(envelope.length, v.envelope_length);
      if (v.envelope !== undefined) assert.equal(toHex(envelope), v.envelope);
      assert.equal(toHex(sha256(envelope)), v.envelope_sha256, `${backend.name}: ${v.name}`);
      const opened = new EnvelopeOpener(keysOf(v), backend).open(tag, envelope);
      assert.ok(opened !== null);
      assert.equal(toHex(sha256(opened)), toHex(sha256(msg)));
    }
  }
  // Every bucket size is covered by a vector.
  assert.deepEqual(
    [...new Set(vectors.map((v) => v.envelope_length))].sort((a, b) => a - b),
    [...BUCKET_SIZES],
  );
});

Deno.test("node:crypto and noble ECDH give identical shared secrets and reject the same points", () => {
  for (let i = 0; i < 40; i++) {
    const a = secp.utils.randomSecretKey();
    const b = secp.utils.randomSecretKey();
    const pub = secp.getPublicKey(b, i % 2 === 0);
    const x1 = nobleEcdh.forSecret(a)(pub);
    const x2 = nodeEcdh.forSecret(a)(pub);
    assert.ok(x1 !== null && x2 !== null);
    assert.equal(toHex(x1), toHex(x2));
    assert.equal(toHex(x1), toHex(nobleEcdh.forSecret(b)(secp.getPublicKey(a, true))!));
  }
  const bad = fromHex("02" + "00".repeat(31) + "05");
  const s = secp.utils.randomSecretKey();
  assert.equal(nobleEcdh.forSecret(s)(bad), null);
  assert.equal(nodeEcdh.forSecret(s)(bad), null);
  assert.equal(nodeEcdh.forSecret(s)(new Uint8Array(10)), null);
});

const recipientSecret = secp.utils.randomSecretKey();
const recipient = {
  scanSecret: recipientSecret,
  scanPubkey: secp.getPublicKey(recipientSecret, true),
  prefix: fromHex("b7a0"),
  prefixBits: 11,
};

Deno.test("every padding bucket: largest message of each bucket fits, one more byte moves up", () => {
  const opener = new EnvelopeOpener(recipient, nodeEcdh);
  let prev = 0;
  for (const size of BUCKET_SIZES) {
    const max = size - ENVELOPE_OVERHEAD_BYTES - LENGTH_PREFIX_BYTES;
    for (const len of [prev, max]) {
      const msg = crypto.getRandomValues(new Uint8Array(Math.min(len, 65536)));
      const { tag, envelope } = seal(recipient, msg, { ecdh: nodeEcdh });
      assert.equal(envelope.length, size, `message of ${len} bytes`);
      assert.equal(bucketFor(len), size);
      assert.ok(matchesPrefix(tag, recipient.prefix, recipient.prefixBits));
      assert.deepEqual(opener.open(tag, envelope), msg);
    }
    prev = max + 1;
  }
  assert.equal(MAX_MESSAGE_BYTES, 65478);
  assert.throws(
    () => seal(recipient, new Uint8Array(MAX_MESSAGE_BYTES + 1)),
    /exceeds the maximum/,
  );
  const padded = seal(recipient, utf8.encode("x"), { minBucketBytes: 4096 });
  assert.equal(padded.envelope.length, 4096);
  // A non-minimal bucket opens like any other (docs/PROTOCOL.md, recipient step 3).
  assert.equal(new TextDecoder().decode(opener.open(padded.tag, padded.envelope)!), "x");
  assert.throws(() => seal(recipient, utf8.encode("x"), { minBucketBytes: 300 }), /one of/);
});

Deno.test("tampering with any bit of tag or envelope is always detected", () => {
  const msg = utf8.encode("pay 1000 sats to bc1q...");
  const { tag, envelope } = seal(recipient, msg);
  const opener = new EnvelopeOpener(recipient);
  assert.deepEqual(opener.open(tag, envelope), msg);
  for (let bit = 0; bit < envelope.length * 8; bit++) {
    const bad = Uint8Array.from(envelope);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    let result: Uint8Array | null | "threw" = null;
    try {
      result = opener.open(tag, bad);
    } catch (e) {
      assert.ok(e instanceof EnvelopeError, String(e));
      // Past the key check, a flipped bit can only be caught by the AEAD.
      assert.equal(e.code, "tampered");
      result = "threw";
    }
    assert.ok(result === null || result === "threw", `bit ${bit} flipped went unnoticed`);
    if (bit >= HEADER_BYTES * 8) assert.equal(result, "threw", `ciphertext bit ${bit}`);
  }
  for (let bit = 0; bit < tag.length * 8; bit++) {
    const bad = Uint8Array.from(tag);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(() => opener.open(bad, envelope), (e) => e instanceof EnvelopeError);
  }
  // Truncated, extended and swapped envelopes.
  assert.throws(() => opener.open(tag, envelope.subarray(0, 255)), /not one of/);
  assert.throws(
    () => opener.open(tag, concat(envelope, new Uint8Array(768))),
    /tampered|not one of/,
  );
  const other = seal(recipient, msg);
  assert.throws(() => opener.open(other.tag, envelope), EnvelopeError);
});

Deno.test("wrong recipients reject quickly (null) and count rejections", () => {
  const stranger = secp.utils.randomSecretKey();
  const opener = new EnvelopeOpener({
    scanSecret: stranger,
    scanPubkey: secp.getPublicKey(stranger, true),
  }, nodeEcdh);
  for (let i = 0; i < 50; i++) {
    const { tag, envelope } = seal(recipient, utf8.encode(`message ${i}`));
    assert.equal(opener.open(tag, envelope), null);
    assert.equal(opener.openBase64(tag, toBase64(envelope)), null);
  }
  assert.equal(opener.rejected, 100);
  assert.equal(opener.open(new Uint8Array(20), new Uint8Array(10)), null);
  assert.equal(opener.openBase64(new Uint8Array(20), "!!not base64!!"), null);
  assert.equal(open(recipient, new Uint8Array(20), new Uint8Array(256)), null);
});

Deno.test("openBase64 decodes only what it needs and agrees with open", () => {
  const opener = new EnvelopeOpener(recipient, nodeEcdh);
  const { tag, envelope } = seal(recipient, utf8.encode("base64 path"));
  assert.equal(
    new TextDecoder().decode(opener.openBase64(tag, toBase64(envelope))!),
    "base64 path",
  );
  assert.throws(
    () => opener.openBase64(tag, toBase64(envelope).slice(0, 60) + "***"),
    /not valid base64/,
  );
});

Deno.test("makeTag keeps exactly the prefix bits and randomises the rest", () => {
  for (let bits = 0; bits <= 32; bits++) {
    const prefix = fromHex("ffffffff");
    const tag = makeTag(prefix, bits, (n) => new Uint8Array(n));
    let ones = 0;
    for (const b of tag) for (let i = 0; i < 8; i++) ones += (b >> i) & 1;
    assert.equal(ones, bits);
    assert.ok(matchesPrefix(tag, prefix, bits));
  }
  assert.throws(() => makeTag(new Uint8Array(0), 8), /needs 1 bytes/);
  assert.throws(() => makeTag(new Uint8Array(5), 33), /0\.\.32/);
});
