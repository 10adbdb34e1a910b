/**
 * Wallet keys: a BIP39 mnemonic, BIP32 derivation, and the scan and spend keys on the BIP352
 * (silent payments) derivation paths, so a wallet restores its Subspace identity from its seed:
 *
 * - scan key:  `m/352'/coin'/0'/1'/0`
 * - spend key: `m/352'/coin'/0'/0'/0`
 *
 * with `coin` = 0 on mainnet and 1 on testnet (BIP352, "Key Derivation").
 *
 * @module
 */
import { HDKey } from "@scure/bip32";
import {
  entropyToMnemonic,
  mnemonicToSeedSync,
  validateMnemonic as bip39Validate,
} from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, defaultRandomBytes, type RandomBytes, utf8 } from "./bytes.ts";
import { secp } from "./_secp.ts";
import {
  MAINNET_VERSION,
  type Network,
  OPTION_REUSE_SCAN_KEY,
  type StealthAddress,
  TESTNET_VERSION,
  truncatePrefix,
} from "./stealth_address.ts";

/** The keys a Subspace wallet holds. */
export interface WalletKeys {
  /** Network the keys were derived for (BIP352 coin type 0 or 1). */
  network: Network;
  /** Scan secret key (32 bytes): decrypts incoming envelopes. */
  scanSecret: Uint8Array;
  /** Compressed scan public key (33 bytes). */
  scanPubkey: Uint8Array;
  /** Spend secret key (32 bytes): signs as the sender. */
  spendSecret: Uint8Array;
  /** Compressed spend public key (33 bytes). */
  spendPubkey: Uint8Array;
}

/** BIP352 derivation path of the scan key. */
export function scanKeyPath(network: Network): string {
  return `m/352'/${network === "testnet" ? 1 : 0}'/0'/1'/0`;
}

/** BIP352 derivation path of the spend key. */
export function spendKeyPath(network: Network): string {
  return `m/352'/${network === "testnet" ? 1 : 0}'/0'/0'/0`;
}

/**
 * Generates a fresh 24-word English BIP39 mnemonic (256 bits of entropy).
 *
 * @param random randomness source (injectable for tests).
 * @example
 * ```ts
 * const words = generateMnemonic();
 * words.split(" ").length; // 24
 * ```
 */
export function generateMnemonic(random: RandomBytes = defaultRandomBytes): string {
  return entropyToMnemonic(random(32), wordlist);
}

/** True when `mnemonic` is a valid English BIP39 mnemonic (words and checksum). */
export function isValidMnemonic(mnemonic: string): boolean {
  return bip39Validate(normalizeMnemonic(mnemonic), wordlist);
}

function normalizeMnemonic(m: string): string {
  return m.normalize("NFKD").trim().toLowerCase().split(/\s+/).join(" ");
}

/**
 * Derives the wallet keys from a BIP39 mnemonic and optional BIP39 passphrase.
 *
 * @throws {RangeError} when the mnemonic is not a valid English BIP39 mnemonic.
 * @example
 * ```ts
 * const keys = keysFromMnemonic(generateMnemonic(), { network: "testnet" });
 * keys.scanPubkey.length; // 33
 * ```
 */
export function keysFromMnemonic(
  mnemonic: string,
  opts: { network?: Network; passphrase?: string } = {},
): WalletKeys {
  const m = normalizeMnemonic(mnemonic);
  if (!bip39Validate(m, wordlist)) {
    const n = m.split(" ").length;
    const unknown = m.split(" ").find((w) => !wordlist.includes(w));
    throw new RangeError(
      unknown !== undefined
        ? `Cannot use mnemonic: '${unknown}' is not a BIP39 English word`
        : ![12, 15, 18, 21, 24].includes(n)
        ? `Cannot use mnemonic: expected 12, 15, 18, 21 or 24 words, got ${n}`
        : "Cannot use mnemonic: checksum mismatch (a word is wrong or out of order)",
    );
  }
  return keysFromSeed(mnemonicToSeedSync(m, opts.passphrase ?? ""), opts.network ?? "mainnet");
}

/**
 * Derives the wallet keys from a BIP32 seed (16..64 bytes).
 *
 * @example
 * ```ts
 * const keys = keysFromSeed(new Uint8Array(32).fill(1), "mainnet");
 * ```
 */
export function keysFromSeed(seed: Uint8Array, network: Network): WalletKeys {
  const root = HDKey.fromMasterSeed(seed);
  const scan = root.derive(scanKeyPath(network));
  const spend = root.derive(spendKeyPath(network));
  if (scan.privateKey === null || spend.privateKey === null) {
    throw new Error("BIP32 derivation produced no private key");
  }
  return keysFromSecrets(scan.privateKey, spend.privateKey, network);
}

/**
 * Builds wallet keys from raw scan and spend secrets (as stored in a wallet file).
 *
 * @throws {RangeError} when a secret is not a valid secp256k1 secret key.
 */
export function keysFromSecrets(
  scanSecret: Uint8Array,
  spendSecret: Uint8Array,
  network: Network,
): WalletKeys {
  if (!secp.utils.isValidSecretKey(scanSecret)) {
    throw new RangeError("Cannot use scan secret: not a valid secp256k1 secret key");
  }
  if (!secp.utils.isValidSecretKey(spendSecret)) {
    throw new RangeError("Cannot use spend secret: not a valid secp256k1 secret key");
  }
  return {
    network,
    scanSecret: Uint8Array.from(scanSecret),
    scanPubkey: secp.getPublicKey(scanSecret, true),
    spendSecret: Uint8Array.from(spendSecret),
    spendPubkey: secp.getPublicKey(spendSecret, true),
  };
}

/**
 * The default prefix of a wallet: the first `bits` bits of
 * `SHA256("subspace/prefix/v1" || scan_pubkey)`, so restoring from the seed restores the same
 * address. A wallet may publish any other prefix instead.
 *
 * @example
 * ```ts
 * defaultPrefix(keys.scanPubkey, 8).length; // 1
 * ```
 */
export function defaultPrefix(scanPubkey: Uint8Array, bits: number): Uint8Array {
  return truncatePrefix(sha256(concat(utf8.encode("subspace/prefix/v1"), scanPubkey)), bits);
}

/**
 * The stealth address of a wallet: its scan key, its spend key (one signature), and a prefix.
 *
 * @example
 * ```ts
 * const addr = addressForKeys(keys, { prefixBits: 8 });
 * ```
 */
export function addressForKeys(
  keys: WalletKeys,
  opts: { prefixBits: number; prefix?: Uint8Array },
): StealthAddress {
  const prefix = opts.prefix !== undefined
    ? truncatePrefix(opts.prefix, opts.prefixBits)
    : defaultPrefix(keys.scanPubkey, opts.prefixBits);
  const reuse = keys.spendPubkey.every((b, i) => b === keys.scanPubkey[i]);
  return {
    version: keys.network === "testnet" ? TESTNET_VERSION : MAINNET_VERSION,
    options: reuse ? OPTION_REUSE_SCAN_KEY : 0,
    scanPubkey: keys.scanPubkey,
    spendPubkeys: reuse ? [] : [keys.spendPubkey],
    signatures: 1,
    prefixBits: opts.prefixBits,
    prefix,
  };
}
