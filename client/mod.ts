/**
 * The Subspace wallet library: stealth addresses, wallet keys, envelopes, payloads, the HTTP
 * client, Privacy Pass tokens (signup, fetching, spending; the RFC 9577/9578 wire formats and
 * the client half of RFC 9474 blind RSA), buying tokens by invoice, and the byte helpers (hex, base64) the whole code base
 * shares. Pure TypeScript on noble/scure, so it runs in browsers; under Deno the client picks
 * `node:crypto` ECDH for speed (identical results).
 *
 * @example
 * ```ts
 * import { SubspaceClient, keysFromMnemonic, addressForKeys, encodeStealthAddress } from "./client/mod.ts";
 * const keys = keysFromMnemonic(mnemonic);
 * const address = encodeStealthAddress(addressForKeys(keys, { prefixBits: 8 }));
 * ```
 *
 * @module
 */
export * from "./stealth_address.ts";
export * from "./keys.ts";
export * from "./ecdh.ts";
export * from "./envelope.ts";
export * from "./payload.ts";
export * from "./proxy.ts";
export * from "./net_error.ts";
export * from "./subspace_client.ts";
export * from "./bytes.ts";
export * from "./blind_rsa.ts";
export * from "./token_wire.ts";
export * from "./tokens.ts";
export * from "./invoices.ts";
