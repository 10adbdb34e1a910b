import assert from "node:assert/strict";
import * as bytes from "./bytes.ts";

// The same module evaluated without the runtime's native hex/base64 helpers, so the portable
// implementation is tested against the native one.
async function portableModule(): Promise<typeof bytes> {
  const proto = Uint8Array.prototype as unknown as Record<string, unknown>;
  const ctor = Uint8Array as unknown as Record<string, unknown>;
  const saved = { toHex: proto.toHex, toBase64: proto.toBase64 };
  delete proto.toHex;
  delete proto.toBase64;
  try {
    const mod = await import(`./bytes.ts?portable=${ctor.fromHex !== undefined}`);
    return mod as typeof bytes;
  } finally {
    proto.toHex = saved.toHex;
    proto.toBase64 = saved.toBase64;
  }
}

const RFC4648 = [
  ["", "", ""],
  ["f", "Zg==", "Zg"],
  ["fo", "Zm8=", "Zm8"],
  ["foo", "Zm9v", "Zm9v"],
  ["foob", "Zm9vYg==", "Zm9vYg"],
  ["fooba", "Zm9vYmE=", "Zm9vYmE"],
  ["foobar", "Zm9vYmFy", "Zm9vYmFy"],
] as const;

for (
  const [label, load] of [["native", () => Promise.resolve(bytes)], [
    "portable",
    portableModule,
  ]] as const
) {
  Deno.test(`bytes (${label}): RFC 4648 §10 base64 vectors, both alphabets`, async () => {
    const b = await load();
    for (const [text, b64, b64u] of RFC4648) {
      const raw = bytes.utf8.encode(text);
      assert.equal(b.toBase64(raw), b64);
      assert.deepEqual(b.fromBase64(b64), raw);
      assert.equal(b.toBase64Url(raw, false), b64u);
      assert.equal(b.toBase64Url(raw), b64);
      assert.deepEqual(b.fromBase64Url(b64u), raw);
      assert.deepEqual(b.fromBase64Url(b64), raw);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.equal(b.toBase64(all), bytes.toBase64(all));
    assert.equal(b.toBase64Url(all, false), bytes.toBase64Url(all, false));
    assert.deepEqual(b.fromBase64Url(bytes.toBase64Url(all, false)), all);
    assert.equal(b.toBase64Url(new Uint8Array([0xfb, 0xff]), false), "-_8");
  });

  Deno.test(`bytes (${label}): base64 parsers are strict and name the parameter`, async () => {
    const b = await load();
    assert.throws(() => b.fromBase64("Zg", "payload"), {
      name: "RangeError",
      message: "Cannot parse payload: expected padded standard base64 (RFC 4648 §4)",
    });
    assert.throws(() => b.fromBase64("Zh=="), RangeError); // non-zero padding bits
    assert.throws(() => b.fromBase64("Zm9v\n"), RangeError);
    assert.throws(() => b.fromBase64("-_8="), RangeError);
    assert.throws(() => b.fromBase64Url("Zm9v+", "token"), {
      name: "RangeError",
      message: "Cannot parse token: expected base64url (RFC 4648 §5)",
    });
    assert.throws(() => b.fromBase64Url("Z"), RangeError);
    assert.throws(() => b.fromBase64Url("Zg="), RangeError);
    assert.throws(() => b.fromBase64(3 as unknown as string, "payload"), TypeError);
  });

  Deno.test(`bytes (${label}): hex round trip and validation`, async () => {
    const b = await load();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = b.toHex(all);
    assert.equal(hex.length, 512);
    assert.equal(hex.slice(0, 8), "00010203");
    assert.equal(hex.slice(-4), "feff");
    assert.deepEqual(b.fromHex(hex), all);
    assert.deepEqual(b.fromHex("ABcd"), new Uint8Array([0xab, 0xcd]));
    assert.throws(() => b.fromHex("abc", "prefix"), {
      name: "RangeError",
      message: "Cannot parse prefix: odd number of hex characters (3)",
    });
    assert.throws(() => b.fromHex("zz", "id"), {
      name: "RangeError",
      message: "Cannot parse id: not a hex string",
    });
    assert.throws(() => b.fromHex("00".repeat(6), "tag", 20), {
      name: "RangeError",
      message: "Cannot parse tag: expected 40 hex characters, got 12",
    });
    assert.throws(() => b.fromHex(null as unknown as string, "tag"), TypeError);
  });
}

Deno.test("bytes: concat, equalBytes, defaultRandomBytes above the 64 KiB chunk", () => {
  const { concat, defaultRandomBytes, equalBytes } = bytes;
  assert.deepEqual(concat(), new Uint8Array());
  assert.deepEqual(
    concat(new Uint8Array([1]), new Uint8Array(), new Uint8Array([2, 3])),
    new Uint8Array([1, 2, 3]),
  );
  assert.ok(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.ok(!equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!equalBytes(new Uint8Array([1]), new Uint8Array([1, 0])));
  const big = defaultRandomBytes(200_000);
  assert.equal(big.length, 200_000);
  // The last chunk is filled too (all zero would have probability 2^-8000).
  assert.ok(big.subarray(196_608).some((x) => x !== 0));
});
