import assert from "node:assert/strict";
import {
  checkPassword,
  generatePassword,
  hashPassword,
  parseHash,
  verifyPassword,
} from "./password.ts";

const FAST = { N: 1 << 10, r: 8, p: 1 };

Deno.test("hashPassword/verifyPassword round trip; wrong passwords fail", async () => {
  const stored = await hashPassword("correct horse battery", FAST);
  assert.match(stored, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword("correct horse battery", stored), true);
  assert.equal(await verifyPassword("correct horse batterY", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("hashPassword salts: the same password hashes differently", async () => {
  const a = await hashPassword("correct horse battery", FAST);
  const b = await hashPassword("correct horse battery", FAST);
  assert.notEqual(a, b);
});

Deno.test("scrypt matches the RFC 7914 §12 test vector (password, NaCl, N=1024, r=8, p=16)", async () => {
  // The vector's key is 64 bytes; we derive 32, which are its first 32 bytes.
  const salt = new TextEncoder().encode("NaCl");
  const stored = await hashPassword("password", { N: 1024, r: 8, p: 16 }, salt);
  const expected = "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162";
  assert.equal(parseHash(stored).key.toHex(), expected);
});

Deno.test("parseHash rejects malformed hashes", () => {
  assert.throws(() => parseHash("bcrypt$x"), /expected scrypt\$N\$r\$p\$salt\$key/);
  assert.throws(() => parseHash("scrypt$1000$8$1$AA==$AA=="), /bad scrypt parameters/);
});

Deno.test("checkPassword enforces length", () => {
  assert.throws(() => checkPassword("short"), /at least 10 characters, got 5/);
  checkPassword("long enough!");
});

Deno.test("generatePassword: four groups of five from a look-alike-free alphabet", () => {
  const p = generatePassword();
  assert.match(p, /^[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){3}$/);
  assert.notEqual(generatePassword(), p);
  assert.equal(generatePassword(1, (n) => new Uint8Array(n)), "aaaaa");
});
