/**
 * Node identity: a secp256k1 key pair kept in the data folder, and the signature schemes used on
 * the wire. A node's id is hash160 of its compressed public key, so an id cannot be claimed
 * without the matching secret key.
 *
 * Signatures are ECDSA over SHA-256 (RFC 6979 deterministic nonces on the signing side, low-S),
 * encoded as 64 bytes r || s. The server-side hot path uses `node:crypto` (about 5x faster than
 * pure JS here); key generation and public key validation use `@noble/secp256k1`.
 *
 * @module
 */
import * as secp from "@noble/secp256k1";
import { Buffer } from "node:buffer";
import * as nodeCrypto from "node:crypto";
import { type NodeId, nodeIdFromPublicKey } from "./id.ts";
import { concat, fromHex, toBase64Url, toHex } from "../../client/mod.ts";

/** Signs and verifies byte strings. */
export interface SignatureScheme {
  /** Name shown in logs and benchmark reports. */
  readonly name: string;
  /** Signs `message` (the scheme hashes it) with a 32-byte secret key; returns 64 bytes. */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Checks a 64-byte signature by the 33-byte compressed `publicKey` over `message`. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

const SPKI_PREFIX = fromHex("3036301006072a8648ce3d020106052b8104000a032200");
const MAX_CACHED_KEYS = 4096;

/**
 * ECDSA secp256k1 / SHA-256 via `node:crypto`, with a bounded cache of parsed key objects.
 *
 * @example
 * ```ts
 * const sig = secp256k1Scheme.sign(secretKey, msg);
 * secp256k1Scheme.verify(publicKey, msg, sig); // true
 * ```
 */
export const secp256k1Scheme: SignatureScheme = (() => {
  const publicKeys = new Map<string, nodeCrypto.KeyObject>();
  const secretKeys = new Map<string, nodeCrypto.KeyObject>();
  const cached = <T>(map: Map<string, T>, key: string, make: () => T): T => {
    let v = map.get(key);
    if (v === undefined) {
      v = make();
      if (map.size >= MAX_CACHED_KEYS) map.delete(map.keys().next().value!);
      map.set(key, v);
    }
    return v;
  };
  return {
    name: "secp256k1",
    sign(secretKey, message) {
      const key = cached(secretKeys, toHex(secretKey), () => {
        const pub = secp.getPublicKey(secretKey, false);
        return nodeCrypto.createPrivateKey({
          key: {
            kty: "EC",
            crv: "secp256k1",
            d: toBase64Url(secretKey, false),
            x: toBase64Url(pub.subarray(1, 33), false),
            y: toBase64Url(pub.subarray(33), false),
          },
          format: "jwk",
        });
      });
      const sig = nodeCrypto.sign("sha256", message, { key, dsaEncoding: "ieee-p1363" });
      return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
    },
    verify(publicKey, message, signature) {
      if (signature.length !== 64 || publicKey.length !== 33) return false;
      try {
        const key = cached(publicKeys, toHex(publicKey), () =>
          nodeCrypto.createPublicKey({
            key: Buffer.from(concat(SPKI_PREFIX, publicKey)),
            format: "der",
            type: "spki",
          }));
        return nodeCrypto.verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
      } catch {
        return false;
      }
    },
  };
})();

/** A node's key pair and id, with a signing function bound to its scheme. */
export interface NodeIdentity {
  /** hash160 of the compressed public key. */
  readonly id: NodeId;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** The public key as 66 lowercase hex characters. */
  readonly publicKeyHex: string;
  /** The scheme that signs for this identity. */
  readonly scheme: SignatureScheme;
  /** Signs `message` with the node's secret key. */
  sign(message: Uint8Array): Uint8Array;
}

/**
 * Builds an identity from a 32-byte secret key.
 *
 * @example
 * ```ts
 * const me = identityFromSecretKey(secp.utils.randomSecretKey());
 * ```
 */
export function identityFromSecretKey(
  secretKey: Uint8Array,
  scheme: SignatureScheme = secp256k1Scheme,
): NodeIdentity {
  if (secretKey.length !== 32) {
    throw new RangeError(`Cannot load node key: expected 32 bytes, got ${secretKey.length}`);
  }
  const publicKey = secp.getPublicKey(secretKey, true);
  const sk = secretKey.slice();
  return {
    id: nodeIdFromPublicKey(publicKey),
    publicKey,
    publicKeyHex: toHex(publicKey),
    scheme,
    sign: (message) => scheme.sign(sk, message),
  };
}

/**
 * A fresh random identity. Pass `secretKey` bytes from a seeded source for deterministic tests.
 *
 * @example
 * ```ts
 * generateIdentity().id.length; // 40
 * ```
 */
export function generateIdentity(
  scheme: SignatureScheme = secp256k1Scheme,
  seedBytes?: Uint8Array,
): NodeIdentity {
  const sk = seedBytes === undefined
    ? secp.utils.randomSecretKey()
    : secp.utils.randomSecretKey(concat(seedBytes, new Uint8Array(48)).slice(0, 48));
  return identityFromSecretKey(sk, scheme);
}

/**
 * Parses a 66-hex compressed secp256k1 public key and checks that it is a point on the curve.
 *
 * @example
 * ```ts
 * parsePublicKey(me.publicKeyHex);
 * ```
 */
export function parsePublicKey(value: unknown, what = "public key"): Uint8Array {
  if (typeof value !== "string" || !/^0[23][0-9a-f]{64}$/.test(value)) {
    throw new RangeError(
      `Cannot parse ${what}: expected 66 lowercase hex characters starting 02 or 03`,
    );
  }
  const bytes = fromHex(value);
  try {
    secp.Point.fromBytes(bytes);
  } catch {
    throw new RangeError(`Cannot parse ${what}: not a point on secp256k1`);
  }
  return bytes;
}

/** File name of the node key inside the data folder. */
export const NODE_KEY_FILE = "node.key";

/**
 * Loads the node key from `<dataDir>/node.key`, creating it (mode 0600) on first start. Refuses
 * a key file that group or others can read.
 *
 * @example
 * ```ts
 * const me = await loadOrCreateIdentity("./data");
 * ```
 */
export async function loadOrCreateIdentity(
  dataDir: string,
  shared?: SharedValues,
): Promise<NodeIdentity> {
  if (shared !== undefined) {
    // Processes sharing one database are one server: the first one's key (from its file, or
    // new) becomes everyone's.
    const hex = await shared.value(
      NODE_KEY_FILE,
      async () => toHex(await loadOrCreateKey(dataDir)),
    );
    return identityFromSecretKey(fromHex(hex));
  }
  return identityFromSecretKey(await loadOrCreateKey(dataDir));
}

/** Values several node processes on one database agree on (`Store.shared`). */
export interface SharedValues {
  value(name: string, init: () => Promise<string>): Promise<string>;
}

async function loadOrCreateKey(dataDir: string): Promise<Uint8Array> {
  const path = `${dataDir.replace(/\/+$/, "")}/${NODE_KEY_FILE}`;
  await Deno.mkdir(dataDir, { recursive: true });
  try {
    const secretKey = secp.utils.randomSecretKey();
    await Deno.writeTextFile(path, toHex(secretKey) + "\n", { mode: 0o600, createNew: true });
    await Deno.chmod(path, 0o600).catch(() => {});
    return secretKey;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  const stat = await Deno.stat(path);
  if (stat.mode !== null && (stat.mode & 0o077) !== 0) {
    throw new Error(
      `Refusing node key ${path}: mode ${(stat.mode & 0o777).toString(8)} lets others read it; ` +
        `run chmod 600 ${path}`,
    );
  }
  const text = (await Deno.readTextFile(path)).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new RangeError(`Cannot parse node key ${path}: expected 64 hex characters`);
  }
  return fromHex(text);
}
