/**
 * SHA-256 on the server's hot paths through `node:crypto` (native; several times faster than
 * pure JS for request bodies).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  const d = createHash("sha256").update(bytes).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
