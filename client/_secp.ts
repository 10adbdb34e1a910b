/**
 * The noble secp256k1 module with its synchronous hashes wired in, and a public-key check.
 * Private to `client/`.
 *
 * @module
 */
import * as secp from "@noble/secp256k1";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

// noble-secp256k1 v3 needs synchronous hashes wired in for sign/verify.
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key, msg) => hmac(sha256, key, msg);

export { secp };

/** Returns true when `bytes` is a valid compressed (33-byte) secp256k1 public key. */
export function isValidCompressedPubkey(bytes: Uint8Array): boolean {
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) return false;
  try {
    secp.Point.fromBytes(bytes).assertValidity();
    return true;
  } catch {
    return false;
  }
}
