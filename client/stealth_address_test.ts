import assert from "node:assert/strict";
import { base58 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  decodeStealthAddress,
  encodeStealthAddress,
  MAINNET_VERSION,
  matchesPrefix,
  type StealthAddress,
  stealthAddressToJson,
  TESTNET_VERSION,
  truncatePrefix,
} from "./stealth_address.ts";
import { concat, fromHex, toHex } from "./bytes.ts";
import { secp } from "./_secp.ts";

interface Vector {
  name: string;
  encoded: string;
  version: number;
  options: number;
  scan_pubkey: string;
  spend_pubkeys: string[];
  signatures: number;
  prefix_bits: number;
  prefix: string;
}

const vectors: { valid: Vector[] } = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/stealth_address_vectors.json", import.meta.url)),
);

Deno.test("libbitcoin vectors decode to the published fields", () => {
  assert.ok(vectors.valid.length >= 11);
  for (const v of vectors.valid) {
    const a = decodeStealthAddress(v.encoded);
    const json = stealthAddressToJson(a);
    assert.deepEqual(
      {
        version: json.version,
        options: json.options,
        scan_pubkey: json.scan_pubkey,
        spend_pubkeys: json.spend_pubkeys,
        signatures: json.signatures,
        prefix_bits: json.prefix_bits,
        prefix: json.prefix,
      },
      {
        version: v.version,
        options: v.options,
        scan_pubkey: v.scan_pubkey,
        spend_pubkeys: v.spend_pubkeys,
        signatures: v.signatures,
        prefix_bits: v.prefix_bits,
        prefix: v.prefix,
      },
      v.name,
    );
  }
});

Deno.test("libbitcoin vectors: encoding the published fields gives the published string", () => {
  for (const v of vectors.valid) {
    const a: StealthAddress = {
      version: v.version,
      options: v.options,
      scanPubkey: fromHex(v.scan_pubkey),
      spendPubkeys: v.spend_pubkeys.map((h) => fromHex(h)),
      signatures: v.signatures,
      prefixBits: v.prefix_bits,
      prefix: fromHex(v.prefix),
    };
    assert.equal(encodeStealthAddress(a), v.encoded, v.name);
  }
});

/** Builds a base58check string from raw bytes, with a correct checksum. */
function b58check(raw: Uint8Array): string {
  return base58.encode(concat(raw, sha256(sha256(raw)).subarray(0, 4)));
}

const SCAN = fromHex("031bab84e687e36514eeaf5a017c30d32c1f59dd4ea6629da7970ca374513dd006");
const SPEND = fromHex("024c6988f8e64242a1b8f33513f5f27b9e135ad0a11433fc590816ff92a353a969");
// x = 5 is not the x coordinate of any secp256k1 point (5^3 + 7 = 132 is a non-residue mod p).
const NOT_ON_CURVE = fromHex("02" + "00".repeat(31) + "05");

function raw(parts: {
  version?: number;
  options?: number;
  scan?: Uint8Array;
  spends?: Uint8Array[];
  sigs?: number;
  bits?: number;
  prefix?: Uint8Array;
}): Uint8Array {
  const spends = parts.spends ?? [SPEND];
  return concat(
    Uint8Array.of(parts.version ?? 0x2a, parts.options ?? 0),
    parts.scan ?? SCAN,
    Uint8Array.of(spends.length),
    ...spends,
    Uint8Array.of(parts.sigs ?? 1, parts.bits ?? 0),
    parts.prefix ?? new Uint8Array(0),
  );
}

Deno.test("decode rejects malformed addresses with precise errors", () => {
  const good = b58check(raw({}));
  assert.doesNotThrow(() => decodeStealthAddress(good));
  const cases: [string, RegExp][] = [
    ["", /empty string/],
    [good.slice(0, 10) + "0" + good.slice(11), /character '0' at position 10/],
    [good.slice(0, -1) + (good.endsWith("z") ? "y" : "z"), /checksum mismatch/],
    [b58check(new Uint8Array(20)), /too short \(24 bytes, at least 42 needed\)/],
    [b58check(raw({ version: 0x05 })), /unknown version 0x05/],
    [b58check(raw({ options: 0x02 })), /unknown option bits 0x2/],
    [b58check(raw({ scan: NOT_ON_CURVE })), /scan public key is not a valid/],
    [b58check(raw({ scan: concat(Uint8Array.of(4), SCAN.subarray(1)) })), /scan public key/],
    [b58check(raw({ spends: [SPEND, NOT_ON_CURVE], sigs: 1 })), /spend public key 1 is not/],
    [b58check(raw({ spends: [] })), /no spend key/],
    [b58check(raw({ sigs: 0 })), /number of signatures must be 1\.\.1 .*got 0/],
    [b58check(raw({ sigs: 2 })), /number of signatures must be 1\.\.1 .*got 2/],
    [
      b58check(raw({ bits: 33, prefix: new Uint8Array(5) })),
      /prefix length must be 0\.\.32 bits, got 33/,
    ],
    [b58check(raw({ bits: 12, prefix: new Uint8Array(1) })), /expected 73 bytes .* got 72/],
    [b58check(concat(raw({}), Uint8Array.of(0))), /expected 71 bytes .* got 72/],
    [b58check(raw({}).subarray(0, 37)), /too short/],
    [
      b58check(raw({ spends: [SPEND, SPEND, SPEND] }).subarray(0, 60)),
      /3 spend keys need at least 137 bytes/,
    ],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(
      () => decodeStealthAddress(input),
      pattern,
      `input ${JSON.stringify(input)} ${pattern}`,
    );
  }
});

Deno.test("encode rejects out-of-range fields", () => {
  const a = decodeStealthAddress(vectors.valid[0]!.encoded);
  assert.throws(() => encodeStealthAddress({ ...a, version: 0 }), /unknown version/);
  assert.throws(
    () => encodeStealthAddress({ ...a, prefixBits: 33, prefix: new Uint8Array(5) }),
    /0\.\.32/,
  );
  assert.throws(
    () => encodeStealthAddress({ ...a, prefixBits: 9, prefix: new Uint8Array(1) }),
    /needs 2 prefix bytes/,
  );
  assert.throws(
    () => encodeStealthAddress({ ...a, spendPubkeys: [NOT_ON_CURVE] }),
    /spend public key 0/,
  );
});

/** A small deterministic PRNG (xorshift32) so property tests are reproducible. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

Deno.test("property: random keys, key counts, options and prefix lengths round trip", () => {
  const rnd = prng(0x5eed);
  for (let i = 0; i < 200; i++) {
    const nSpend = rnd(4);
    const options = nSpend === 0 ? 1 : rnd(2);
    const total = nSpend + options;
    const bits = i % 33;
    const prefix = truncatePrefix(secp.etc.randomBytes(4), bits);
    const a: StealthAddress = {
      version: rnd(2) === 0 ? MAINNET_VERSION : TESTNET_VERSION,
      options,
      scanPubkey: secp.getPublicKey(secp.utils.randomSecretKey(), true),
      spendPubkeys: Array.from(
        { length: nSpend },
        () => secp.getPublicKey(secp.utils.randomSecretKey(), true),
      ),
      signatures: 1 + rnd(total),
      prefixBits: bits,
      prefix,
    };
    const s = encodeStealthAddress(a);
    const b = decodeStealthAddress(s);
    assert.deepEqual(stealthAddressToJson(b), stealthAddressToJson(a));
    assert.equal(encodeStealthAddress(b), s);
    // Any single-character substitution is caught (checksum or a structural check).
    const pos = rnd(s.length);
    const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const repl = alphabet[(alphabet.indexOf(s[pos]!) + 1 + rnd(57)) % 58]!;
    assert.throws(
      () => decodeStealthAddress(s.slice(0, pos) + repl + s.slice(pos + 1)),
      RangeError,
    );
  }
});

Deno.test("matchesPrefix compares the first bits most significant bit first", () => {
  const tag = fromHex("a5" + "ff".repeat(19));
  assert.ok(matchesPrefix(tag, fromHex("a0"), 4));
  assert.ok(!matchesPrefix(tag, fromHex("b0"), 4));
  assert.ok(matchesPrefix(tag, fromHex("a4"), 7));
  assert.ok(!matchesPrefix(tag, fromHex("a4"), 8));
  assert.ok(matchesPrefix(tag, new Uint8Array(0), 0));
  assert.equal(toHex(truncatePrefix(fromHex("ffff"), 12)), "fff0");
  assert.equal(toHex(truncatePrefix(fromHex("ffff"), 0)), "");
});
