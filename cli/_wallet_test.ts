import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  addressForKeys,
  decodeStealthAddress,
  encodeStealthAddress,
  fromHex,
  keysFromSecrets,
  toHex,
  utf8,
} from "../client/mod.ts";
import { CliError } from "./_args.ts";
import { makeWalletFile, unlockWallet, type WalletFile } from "./_wallet.ts";

// The encrypted wallet vector of docs/client.md ("Encrypted wallet keys").
const VECTOR = {
  passphrase: "correct horse battery staple",
  scan_secret: "a1".repeat(32),
  spend_secret: "a2".repeat(32),
  salt: "000102030405060708090a0b0c0d0e0f",
  nonce: "101112131415161718191a1b1c1d1e1f2021222324252627",
  key: "1b2946da71f41179e83b99dc33842d15741b87c4121c8c7f3781c1df864fb58b",
  ciphertext:
    "6056eea28a9d44f21bd06eda2cfc09c22aa27dec7dfbeb1a1208863ae45226a5fcb40b4503fcfcafe218017efd0613a9ad359b8e45cc70781db24c6bfb88bff0bf3884efb8d82dcac53ac46d289f4928a3838f93022c46f7f3f6ea9f5c7647cf683c3a2181b3ffb67744d3de61b40b2ceba9136df1a54364e6b70d26478496d07e8e56036ea893106fb0fb29f39a8a20a78f3b846880d6addecb7bb154f50600fbf75f406779f3564933e8be6831a236db2c7222",
};

const keys = keysFromSecrets(fromHex(VECTOR.scan_secret), fromHex(VECTOR.spend_secret), "mainnet");
const address = encodeStealthAddress(addressForKeys(keys, { prefixBits: 8 }));

Deno.test("encrypted wallet keys: the documented vector, step by step and through the code", async () => {
  // scrypt by node:crypto (independent of the noble code the wallet uses).
  const key = scryptSync(
    utf8.encode(VECTOR.passphrase.normalize("NFKC")),
    fromHex(VECTOR.salt),
    32,
    {
      N: 2 ** 17,
      r: 8,
      p: 1,
      maxmem: 2 ** 30,
    },
  );
  assert.equal(key.toString("hex"), VECTOR.key);
  const plain = xchacha20poly1305(
    fromHex(VECTOR.key),
    fromHex(VECTOR.nonce),
    utf8.encode("subspace-wallet/v1"),
  )
    .decrypt(fromHex(VECTOR.ciphertext));
  assert.equal(
    new TextDecoder().decode(plain),
    `{"scan_secret":"${VECTOR.scan_secret}","spend_secret":"${VECTOR.spend_secret}"}`,
  );

  const queue = [fromHex(VECTOR.salt), fromHex(VECTOR.nonce)];
  const file = await makeWalletFile(
    keys,
    address,
    VECTOR.passphrase,
    new Date(0),
    () => queue.shift()!,
  );
  assert.deepEqual(file.encrypted_keys, {
    kdf: "scrypt",
    log_n: 17,
    r: 8,
    p: 1,
    salt: VECTOR.salt,
    cipher: "xchacha20poly1305",
    nonce: VECTOR.nonce,
    ciphertext: VECTOR.ciphertext,
  });
  assert.equal(file.keys, undefined);

  const wallet = { path: "w.json", file, address: decodeStealthAddress(address) };
  const unlocked = await unlockWallet(wallet, VECTOR.passphrase);
  assert.equal(toHex(unlocked.spendSecret), VECTOR.spend_secret);
  await assert.rejects(
    unlockWallet(wallet, "wrong"),
    (e) => e instanceof CliError && /wrong passphrase/.test(e.message),
  );
});

Deno.test("a wallet whose keys do not derive its address is refused", async () => {
  const file: WalletFile = await makeWalletFile(keys, address, undefined);
  const other = keysFromSecrets(fromHex("a1".repeat(32)), fromHex("c2".repeat(32)), "mainnet");
  file.keys = { scan_secret: VECTOR.scan_secret, spend_secret: toHex(other.spendSecret) };
  await assert.rejects(
    unlockWallet({ path: "w.json", file, address: decodeStealthAddress(address) }),
    /the spend key does not match the address/,
  );
  const testnet = await makeWalletFile(keys, address, undefined);
  testnet.network = "testnet";
  await assert.rejects(
    unlockWallet({ path: "w.json", file: testnet, address: decodeStealthAddress(address) }),
    /not a testnet address/,
  );
});
