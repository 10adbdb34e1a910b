import assert from "node:assert/strict";
import {
  bucketIndex,
  commonPrefixBits,
  compareDistance,
  idFromBytes,
  idToBytes,
  parseNodeId,
  randomId,
  randomIdInBucket,
  xorDistance,
} from "./id.ts";
import { seededRandom } from "./random.ts";
import { toHex } from "../../client/mod.ts";

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ b[i]!);
}

Deno.test("XOR metric: identity, symmetry, triangle inequality, unidirectionality", () => {
  const r = seededRandom(11);
  for (let i = 0; i < 500; i++) {
    const a = randomId(r), b = randomId(r), c = randomId(r);
    assert.ok(xorDistance(a, a).every((x) => x === 0));
    assert.deepEqual(xorDistance(a, b), xorDistance(b, a));
    // d(a,c) = d(a,b) xor d(b,c) <= d(a,b) + d(b,c)
    const ab = xorDistance(a, b), bc = xorDistance(b, c), ac = xorDistance(a, c);
    assert.deepEqual(ac, xorBytes(ab, bc));
    const sum = BigInt("0x" + toHex(ab)) +
      BigInt("0x" + toHex(bc));
    assert.ok(
      BigInt("0x" + toHex(ac)) <= sum,
    );
    // For a given a and distance there is exactly one b: d(a,b) determines b.
    assert.equal(idFromBytes(xorBytes(idToBytes(a), ab)), b);
  }
});

Deno.test("compareDistance agrees with byte comparison of XOR distances", () => {
  const r = seededRandom(12);
  for (let i = 0; i < 1000; i++) {
    const t = randomId(r), a = randomId(r), b = i % 10 === 0 ? a : randomId(r);
    const expected = Math.sign(cmpBytes(xorDistance(t, a), xorDistance(t, b)));
    assert.equal(Math.sign(compareDistance(t, a, b)), expected);
  }
});

Deno.test("bucketIndex is 159 - common prefix length and -1 for self", () => {
  const r = seededRandom(13);
  const a = randomId(r);
  assert.equal(bucketIndex(a, a), -1);
  assert.equal(commonPrefixBits(a, a), 160);
  for (let i = 0; i < 160; i++) {
    const b = randomIdInBucket(a, i, r);
    assert.equal(bucketIndex(a, b), i);
    assert.equal(bucketIndex(b, a), i);
    // distance in [2^i, 2^(i+1))
    const d = BigInt("0x" + toHex(xorDistance(a, b)));
    assert.ok(d >= 1n << BigInt(i) && d < 1n << BigInt(i + 1));
  }
});

Deno.test("parseNodeId names the problem", () => {
  assert.throws(() => parseNodeId("ab"), /expected 40 lowercase hex characters, got 2/);
  assert.throws(() => parseNodeId(5), TypeError);
  assert.throws(() => parseNodeId("G".repeat(40)), RangeError);
  assert.equal(parseNodeId("0".repeat(40)), "0".repeat(40));
});
