/**
 * secp256k1 ECDH backends. The envelope needs one operation: the x-coordinate of `d·P` for a
 * fixed secret `d` and many points `P`. {@link nobleEcdh} is pure JavaScript and runs in
 * browsers; {@link loadNodeEcdh} uses `node:crypto` (available under Deno and Node), which is
 * several times faster. Both give identical bytes (see `envelope_test.ts`).
 *
 * @module
 */
import { secp } from "./_secp.ts";

/** Computes 32-byte shared x-coordinates for one secret key. */
export type SharedSecretFn = (pubkey: Uint8Array) => Uint8Array | null;

/** A secp256k1 ECDH implementation. */
export interface EcdhBackend {
  /** Short name for logs and benchmarks (`"noble"`, `"node:crypto"`). */
  readonly name: string;
  /**
   * Prepares `secret` (32 bytes) and returns a function mapping a compressed or uncompressed
   * public key to the 32-byte x-coordinate of `secret·pubkey`, or `null` when the public key is
   * not a valid curve point.
   */
  forSecret(secret: Uint8Array): SharedSecretFn;
}

/**
 * Pure-JavaScript ECDH with `@noble/secp256k1` (browsers, any runtime).
 *
 * @example
 * ```ts
 * const x = nobleEcdh.forSecret(secretA)(publicB);
 * ```
 */
export const nobleEcdh: EcdhBackend = {
  name: "noble",
  forSecret(secret: Uint8Array): SharedSecretFn {
    if (!secp.utils.isValidSecretKey(secret)) {
      throw new RangeError("Cannot use ECDH secret: not a valid secp256k1 secret key");
    }
    const d = Uint8Array.from(secret);
    return (pubkey) => {
      try {
        return secp.getSharedSecret(d, pubkey, true).subarray(1);
      } catch {
        return null;
      }
    };
  },
};

interface NodeEcdh {
  setPrivateKey(key: Uint8Array): void;
  computeSecret(pub: Uint8Array): Uint8Array;
}

let nodeBackend: Promise<EcdhBackend | undefined> | undefined;

/**
 * Loads the `node:crypto` ECDH backend, or resolves `undefined` where `node:crypto` or its
 * secp256k1 support is missing (browsers). The specifier is computed so that browser bundlers
 * leave it alone.
 *
 * @example
 * ```ts
 * const ecdh = (await loadNodeEcdh()) ?? nobleEcdh;
 * ```
 */
export function loadNodeEcdh(): Promise<EcdhBackend | undefined> {
  nodeBackend ??= (async () => {
    // Browsers have no node:crypto: do not even ask (the package's browser build is pure noble).
    const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } } };
    if (g.Deno === undefined && g.process?.versions?.node === undefined) return undefined;
    try {
      const specifier = ["node", "crypto"].join(":");
      const mod = await import(specifier) as {
        createECDH(curve: string): NodeEcdh;
      };
      const probe = mod.createECDH("secp256k1");
      probe.setPrivateKey(new Uint8Array(32).fill(1));
      const backend: EcdhBackend = {
        name: "node:crypto",
        forSecret(secret: Uint8Array): SharedSecretFn {
          if (!secp.utils.isValidSecretKey(secret)) {
            throw new RangeError("Cannot use ECDH secret: not a valid secp256k1 secret key");
          }
          const ecdh = mod.createECDH("secp256k1");
          ecdh.setPrivateKey(secret);
          return (pubkey) => {
            try {
              const out = ecdh.computeSecret(pubkey);
              return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
            } catch {
              return null;
            }
          };
        },
      };
      return backend;
    } catch {
      return undefined;
    }
  })();
  return nodeBackend;
}

/**
 * The fastest backend available here: `node:crypto` under Deno/Node, noble elsewhere.
 *
 * @example
 * ```ts
 * const ecdh = await fastestEcdh();
 * ```
 */
export async function fastestEcdh(): Promise<EcdhBackend> {
  return (await loadNodeEcdh()) ?? nobleEcdh;
}
