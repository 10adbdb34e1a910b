/**
 * Receive addresses derived from the operator's extended public key (BIP32 public
 * derivation, `<xpub>/0/<index>`). The key's version bytes (SLIP-132) pick the network and the
 * address type: `xpub`/`tpub` pay-to-pubkey-hash (BIP44), `ypub`/`upub` P2SH-wrapped segwit
 * (BIP49), `zpub`/`vpub` native segwit (BIP84). Either can be overridden.
 *
 * @module
 */
import { HDKey } from "@scure/bip32";
import { NETWORK, p2pkh, p2sh, p2wpkh, TEST_NETWORK } from "@scure/btc-signer";

/** Address script types the fee module can derive. */
export type AddressType = "p2pkh" | "p2sh-p2wpkh" | "p2wpkh";
/** Bitcoin networks (regtest uses testnet keys and the `bcrt` bech32 prefix). */
export type BitcoinNetwork = "mainnet" | "testnet" | "regtest";

interface KeyKind {
  network: "mainnet" | "testnet";
  type: AddressType;
  /** The 4-byte public version (SLIP-132). */
  version: number;
}

// SLIP-132 registered version bytes of account-level public keys.
const KINDS: Record<string, KeyKind> = {
  xpub: { network: "mainnet", type: "p2pkh", version: 0x0488b21e },
  ypub: { network: "mainnet", type: "p2sh-p2wpkh", version: 0x049d7cb2 },
  zpub: { network: "mainnet", type: "p2wpkh", version: 0x04b24746 },
  tpub: { network: "testnet", type: "p2pkh", version: 0x043587cf },
  upub: { network: "testnet", type: "p2sh-p2wpkh", version: 0x044a5262 },
  vpub: { network: "testnet", type: "p2wpkh", version: 0x045f1cf6 },
};

const REGTEST = { ...TEST_NETWORK, bech32: "bcrt" };

/** A parsed extended public key that derives receive addresses. */
export interface AddressDeriver {
  /** The extended key text it was parsed from (invoice address indices count per key). */
  readonly xpub: string;
  /** The network addresses are for. */
  readonly network: BitcoinNetwork;
  /** The address type derived. */
  readonly type: AddressType;
  /** The receive address at `index` (`<key>/0/<index>`). */
  address(index: number): string;
}

/** Options for {@linkcode parseXpub}. */
export interface XpubOptions {
  /** Address type, overriding the one the key's prefix implies. */
  type?: AddressType | undefined;
  /** Network, overriding the key's (only `regtest` may replace `testnet`). */
  network?: BitcoinNetwork | undefined;
}

/**
 * Parses an account-level extended public key (`xpub`, `ypub`, `zpub`, `tpub`, `upub`,
 * `vpub`).
 *
 * @example
 * ```ts
 * const d = parseXpub("zpub6rFR7y4Q2Aij...");
 * d.address(0); // "bc1q..."
 * ```
 * @throws {RangeError} when the key is not a valid extended public key.
 */
export function parseXpub(text: string, opts: XpubOptions = {}): AddressDeriver {
  if (typeof text !== "string") throw new TypeError("Cannot parse xpub: expected a string");
  const kind = KINDS[text.slice(0, 4)];
  if (kind === undefined && /^[xyztuv]prv/.test(text)) {
    throw new RangeError(
      `Cannot parse xpub: '${
        text.slice(0, 4)
      }...' is a private key; paste the account's extended public key instead`,
    );
  }
  if (kind === undefined) {
    throw new RangeError(
      `Cannot parse xpub: expected a key starting xpub, ypub, zpub, tpub, upub or vpub, got '${
        text.slice(0, 4)
      }'`,
    );
  }
  let key: HDKey;
  try {
    key = HDKey.fromExtendedKey(text, { public: kind.version, private: 0 });
  } catch (err) {
    throw new RangeError(`Cannot parse xpub: ${(err as Error).message}`);
  }
  if (key.privateKey !== null) throw new RangeError("Cannot parse xpub: this is a private key");
  let network: BitcoinNetwork = kind.network;
  if (opts.network !== undefined) {
    if (opts.network === "regtest" && kind.network === "testnet") network = "regtest";
    else if (opts.network !== kind.network) {
      throw new RangeError(
        `Cannot use a ${kind.network} key (${text.slice(0, 4)}) on ${opts.network}`,
      );
    }
  }
  const type = opts.type ?? kind.type;
  const params = network === "mainnet" ? NETWORK : network === "testnet" ? TEST_NETWORK : REGTEST;
  const receive = key.deriveChild(0);
  return {
    xpub: text,
    network,
    type,
    address(index: number): string {
      if (!Number.isSafeInteger(index) || index < 0 || index >= 0x80000000) {
        throw new RangeError(`Address index must be in 0..2^31-1, got ${index}`);
      }
      const pub = receive.deriveChild(index).publicKey!;
      const out = type === "p2pkh"
        ? p2pkh(pub, params)
        : type === "p2wpkh"
        ? p2wpkh(pub, params)
        : p2sh(p2wpkh(pub, params), params);
      return out.address!;
    },
  };
}
