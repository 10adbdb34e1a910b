import assert from "node:assert/strict";
import { HDKey } from "@scure/bip32";
import { mnemonicToSeedSync } from "@scure/bip39";
import {
  addressForKeys,
  defaultPrefix,
  generateMnemonic,
  isValidMnemonic,
  keysFromMnemonic,
  keysFromSecrets,
  scanKeyPath,
  spendKeyPath,
} from "./keys.ts";
import { fromHex, toHex } from "./bytes.ts";
import { decodeStealthAddress, encodeStealthAddress } from "./stealth_address.ts";

// BIP39 reference vector (Trezor python-mnemonic vectors.json, first English entry).
const ABANDON = "abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
  "abandon abandon about";
const ABANDON_SEED_TREZOR =
  "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04";

Deno.test("BIP39 reference vector seed, then BIP352 paths", () => {
  assert.equal(toHex(mnemonicToSeedSync(ABANDON, "TREZOR")), ABANDON_SEED_TREZOR);
  const keys = keysFromMnemonic(ABANDON, { passphrase: "TREZOR" });
  const root = HDKey.fromMasterSeed(fromHex(ABANDON_SEED_TREZOR));
  assert.equal(scanKeyPath("mainnet"), "m/352'/0'/0'/1'/0");
  assert.equal(spendKeyPath("mainnet"), "m/352'/0'/0'/0'/0");
  assert.equal(scanKeyPath("testnet"), "m/352'/1'/0'/1'/0");
  assert.equal(toHex(keys.scanSecret), toHex(root.derive("m/352'/0'/0'/1'/0").privateKey!));
  assert.equal(toHex(keys.spendSecret), toHex(root.derive("m/352'/0'/0'/0'/0").privateKey!));
  const test = keysFromMnemonic(ABANDON, { passphrase: "TREZOR", network: "testnet" });
  assert.equal(toHex(test.scanSecret), toHex(root.derive("m/352'/1'/0'/1'/0").privateKey!));
  assert.notEqual(toHex(test.scanSecret), toHex(keys.scanSecret));
  assert.notEqual(toHex(keys.scanSecret), toHex(keys.spendSecret));
});

Deno.test("mnemonic generation uses the injected randomness and restores the same address", () => {
  const words = generateMnemonic((n) => new Uint8Array(n));
  assert.equal(words, Array(23).fill("abandon").join(" ") + " art");
  const fresh = generateMnemonic();
  assert.equal(fresh.split(" ").length, 24);
  assert.ok(isValidMnemonic(fresh));
  const a = encodeStealthAddress(addressForKeys(keysFromMnemonic(fresh), { prefixBits: 8 }));
  const b = encodeStealthAddress(
    addressForKeys(keysFromMnemonic(`  ${fresh.toUpperCase()} `), { prefixBits: 8 }),
  );
  assert.equal(a, b);
  const decoded = decodeStealthAddress(a);
  assert.equal(decoded.prefixBits, 8);
  assert.equal(decoded.spendPubkeys.length, 1);
});

Deno.test("invalid mnemonics are rejected with the reason", () => {
  assert.throws(() => keysFromMnemonic("abandon abandon"), /expected 12, 15, 18, 21 or 24 words/);
  assert.throws(() => keysFromMnemonic(ABANDON.replace("about", "bitcoinx")), /not a BIP39/);
  assert.throws(() => keysFromMnemonic(ABANDON.replace("about", "abandon")), /checksum mismatch/);
  assert.throws(() => keysFromSecrets(new Uint8Array(32), new Uint8Array(32), "mainnet"), /scan/);
});

Deno.test("address prefix: default is derived from the scan key; explicit prefix is truncated", () => {
  const keys = keysFromMnemonic(ABANDON);
  const p = defaultPrefix(keys.scanPubkey, 12);
  assert.equal(p.length, 2);
  assert.equal(p[1]! & 0x0f, 0);
  const a = addressForKeys(keys, { prefixBits: 12, prefix: fromHex("abcd") });
  assert.equal(toHex(a.prefix), "abc0");
  assert.equal(addressForKeys(keys, { prefixBits: 0 }).prefix.length, 0);
});
