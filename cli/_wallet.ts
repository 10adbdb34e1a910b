/**
 * Wallet files for the CLI: JSON, written with mode 0600, holding the scan and spend secrets
 * (optionally encrypted with a passphrase: scrypt + XChaCha20-Poly1305) and the public address.
 * The address can be read without the passphrase. Cursors live beside the wallet in
 * `<wallet>.cursors.json` so the key file is never rewritten.
 *
 * @module
 */
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  type CursorStore,
  decodeStealthAddress,
  defaultRandomBytes,
  fromHex,
  keysFromSecrets,
  type Network,
  networkOf,
  type RandomBytes,
  type StealthAddress,
  toHex,
  utf8,
  type WalletKeys,
} from "../client/mod.ts";
import { CliError } from "./_args.ts";

/** Wallet file format identifier. */
export const WALLET_FORMAT = "subspace-wallet";

/** scrypt parameters for new wallets (N = 2^17, r = 8, p = 1: about 128 MiB). */
export const SCRYPT_PARAMS = { logN: 17, r: 8, p: 1 } as const;

interface EncryptedKeys {
  kdf: "scrypt";
  log_n: number;
  r: number;
  p: number;
  salt: string;
  cipher: "xchacha20poly1305";
  nonce: string;
  ciphertext: string;
}

/** The JSON stored in a wallet file. */
export interface WalletFile {
  format: typeof WALLET_FORMAT;
  version: 1;
  network: Network;
  address: string;
  prefix_bits: number;
  prefix: string;
  created_at: string;
  keys?: { scan_secret: string; spend_secret: string };
  encrypted_keys?: EncryptedKeys;
}

/** A loaded wallet: its public fields, and its keys once unlocked. */
export interface Wallet {
  /** Path of the wallet file. */
  path: string;
  /** Parsed file. */
  file: WalletFile;
  /** Decoded address. */
  address: StealthAddress;
}

const AAD = utf8.encode("subspace-wallet/v1");

/**
 * Serializes a wallet, encrypting its keys when `passphrase` is a non-empty string (format and
 * test vector: docs/client.md, "Encrypted wallet keys"; `random` draws the salt, then the nonce).
 */
export async function makeWalletFile(
  keys: WalletKeys,
  address: string,
  passphrase: string | undefined,
  now = new Date(),
  random: RandomBytes = defaultRandomBytes,
): Promise<WalletFile> {
  const a = decodeStealthAddress(address);
  const file: WalletFile = {
    format: WALLET_FORMAT,
    version: 1,
    network: keys.network,
    address,
    prefix_bits: a.prefixBits,
    prefix: toHex(a.prefix),
    created_at: now.toISOString(),
  };
  const secrets = { scan_secret: toHex(keys.scanSecret), spend_secret: toHex(keys.spendSecret) };
  if (passphrase === undefined || passphrase === "") {
    file.keys = secrets;
    return file;
  }
  const salt = random(16);
  const nonce = random(24);
  const key = await scryptAsync(utf8.encode(passphrase.normalize("NFKC")), salt, {
    N: 2 ** SCRYPT_PARAMS.logN,
    r: SCRYPT_PARAMS.r,
    p: SCRYPT_PARAMS.p,
    dkLen: 32,
  });
  const ciphertext = xchacha20poly1305(key, nonce, AAD).encrypt(
    utf8.encode(JSON.stringify(secrets)),
  );
  file.encrypted_keys = {
    kdf: "scrypt",
    log_n: SCRYPT_PARAMS.logN,
    r: SCRYPT_PARAMS.r,
    p: SCRYPT_PARAMS.p,
    salt: toHex(salt),
    cipher: "xchacha20poly1305",
    nonce: toHex(nonce),
    ciphertext: toHex(ciphertext),
  };
  return file;
}

/** Writes a new wallet file with mode 0600; refuses to overwrite an existing file. */
export async function writeWalletFile(path: string, file: WalletFile): Promise<void> {
  try {
    await Deno.writeTextFile(path, JSON.stringify(file, null, 2) + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new CliError(`${path} already exists; refusing to overwrite a wallet`);
    }
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
  await Deno.chmod(path, 0o600).catch(() => {});
}

/** Reads and checks a wallet file (without unlocking its keys). */
export async function readWallet(path: string): Promise<Wallet> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CliError(`wallet file ${path} not found (create one with 'subspace keygen')`);
    }
    throw new CliError(`cannot read wallet ${path}: ${(e as Error).message}`);
  }
  let file: WalletFile;
  try {
    file = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not a wallet file (not JSON)`);
  }
  if (file?.format !== WALLET_FORMAT || file.version !== 1) {
    throw new CliError(`${path} is not a version 1 subspace wallet file`);
  }
  let address: StealthAddress;
  try {
    address = decodeStealthAddress(file.address);
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
  if (file.keys === undefined && file.encrypted_keys === undefined) {
    throw new CliError(`${path} holds no keys`);
  }
  return { path, file, address };
}

/** True when the wallet's keys are passphrase-encrypted. */
export function isEncrypted(w: Wallet): boolean {
  return w.file.encrypted_keys !== undefined;
}

/**
 * Returns the wallet's keys, decrypting them with `passphrase` when encrypted.
 *
 * @throws {CliError} on a wrong passphrase or damaged keys.
 */
export async function unlockWallet(w: Wallet, passphrase?: string): Promise<WalletKeys> {
  let secrets: { scan_secret: string; spend_secret: string };
  const enc = w.file.encrypted_keys;
  if (enc !== undefined) {
    if (passphrase === undefined) {
      throw new CliError(
        `${w.path} is encrypted: give --passphrase-env VAR or run in a terminal to be prompted`,
        2,
      );
    }
    if (enc.kdf !== "scrypt" || enc.cipher !== "xchacha20poly1305" || enc.log_n > 22) {
      throw new CliError(`${w.path}: unsupported key encryption ${enc.kdf}/${enc.cipher}`);
    }
    const key = await scryptAsync(utf8.encode(passphrase.normalize("NFKC")), fromHex(enc.salt), {
      N: 2 ** enc.log_n,
      r: enc.r,
      p: enc.p,
      dkLen: 32,
      maxmem: 2 ** 30,
    });
    let plain: Uint8Array;
    try {
      plain = xchacha20poly1305(key, fromHex(enc.nonce), AAD).decrypt(fromHex(enc.ciphertext));
    } catch {
      throw new CliError(`wrong passphrase for ${w.path}`);
    }
    secrets = JSON.parse(new TextDecoder().decode(plain));
  } else {
    secrets = w.file.keys!;
  }
  try {
    const keys = keysFromSecrets(
      fromHex(secrets.scan_secret, "scan secret", 32),
      fromHex(secrets.spend_secret, "spend secret", 32),
      w.file.network,
    );
    checkKeysMatchAddress(keys, w.address, w.file.network);
    return keys;
  } catch (e) {
    throw new CliError(
      `${w.path}: the keys do not belong to the wallet's address (${
        (e as Error).message
      }); the file is damaged or was edited: restore it from your recovery phrase ('subspace keygen --mnemonic-env VAR')`,
    );
  }
}

/**
 * Checks that `keys` derive `address`: its scan key, its spend key (or the scan key reused, with
 * option 0x01) and its network. A wallet whose keys do not match would sign as somebody else
 * and read nobody's messages.
 *
 * @throws {Error} naming the first mismatch.
 */
export function checkKeysMatchAddress(
  keys: WalletKeys,
  address: StealthAddress,
  network: Network,
): void {
  if (toHex(keys.scanPubkey) !== toHex(address.scanPubkey)) {
    throw new Error("the scan key does not match the address");
  }
  const spend = address.spendPubkeys.length === 0 ? address.scanPubkey : address.spendPubkeys[0]!;
  if (toHex(keys.spendPubkey) !== toHex(spend)) {
    throw new Error("the spend key does not match the address");
  }
  if (networkOf(address.version) !== network) {
    throw new Error(`the address is not a ${network} address`);
  }
}

/** Path of the cursor file of a wallet. */
export function cursorPath(walletPath: string): string {
  return `${walletPath}.cursors.json`;
}

/** A cursor store in `<wallet>.cursors.json` (mode 0600), rewritten atomically. */
export class FileCursorStore implements CursorStore {
  #cursors: Record<string, string> | undefined;
  constructor(readonly path: string) {}

  async #load(): Promise<Record<string, string>> {
    if (this.#cursors !== undefined) return this.#cursors;
    try {
      const parsed = JSON.parse(await Deno.readTextFile(this.path));
      this.#cursors = typeof parsed === "object" && parsed !== null ? parsed : {};
    } catch {
      this.#cursors = {};
    }
    return this.#cursors!;
  }

  /** Returns the saved cursor. */
  async get(server: string): Promise<string | undefined> {
    return (await this.#load())[server];
  }

  /** Saves a cursor (write to a temporary file, then rename). */
  async set(server: string, cursor: string): Promise<void> {
    const all = await this.#load();
    if (all[server] === cursor) return;
    all[server] = cursor;
    const tmp = `${this.path}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(all, null, 2) + "\n", { mode: 0o600 });
    await Deno.rename(tmp, this.path);
  }
}

/**
 * Reads a passphrase: from the environment variable `envVar` when given, else by prompting on
 * the terminal (without echo) when `prompt` is true and stdin is a terminal.
 */
export async function readPassphrase(
  envVar: string | undefined,
  opts: { prompt: boolean; confirm?: boolean; label?: string },
): Promise<string | undefined> {
  if (envVar !== undefined) {
    const v = Deno.env.get(envVar);
    if (v === undefined) throw new CliError(`environment variable ${envVar} is not set`, 2);
    return v;
  }
  if (!opts.prompt || !Deno.stdin.isTerminal()) return undefined;
  const first = await promptHidden(opts.label ?? "Passphrase: ");
  if (opts.confirm && first !== "") {
    const again = await promptHidden("Repeat passphrase: ");
    if (again !== first) throw new CliError("passphrases do not match", 2);
  }
  return first;
}

async function promptHidden(label: string): Promise<string> {
  await Deno.stderr.write(utf8.encode(label));
  Deno.stdin.setRaw(true);
  const chars: number[] = [];
  try {
    const buf = new Uint8Array(1);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 13 || buf[0] === 10) break;
      if (buf[0] === 3) throw new CliError("interrupted", 130);
      if (buf[0] === 127 || buf[0] === 8) chars.pop();
      else chars.push(buf[0]!);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(utf8.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(chars));
}
