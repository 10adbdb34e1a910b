/**
 * The plaintext inside an envelope: one protobuf message, {@link PLAINTEXT_PROTO}, whose `body`
 * carries text, a BIP70 PaymentRequest / Payment / PaymentACK (serialized with the BIP70
 * `paymentrequest.proto` in {@link BIP70_PROTO}), or a BIP174 PSBT. The schemas are embedded
 * strings, so nothing is read from disk at run time.
 *
 * Body bytes are carried exactly as given: a PaymentRequest or PSBT arrives byte for byte.
 *
 * @module
 */
import protobuf from "protobufjs";
import { sha256 } from "@noble/hashes/sha2.js";
import { Address, NETWORK, OutScript, TEST_NETWORK, Transaction } from "@scure/btc-signer";
import { concat, defaultRandomBytes, type RandomBytes, toHex, utf8, utf8Strict } from "./bytes.ts";
import { secp } from "./_secp.ts";
import { decodeStealthAddress, spendKeyCount } from "./stealth_address.ts";
import { MAX_MESSAGE_BYTES } from "./envelope.ts";

/**
 * BIP70 `paymentrequest.proto` (package `payments`), written from the BIP text
 * (BIP70, "Specification").
 */
export const BIP70_PROTO = `
syntax = "proto2";
package payments;
message Output {
  optional uint64 amount = 1 [default = 0];
  required bytes script = 2;
}
message PaymentDetails {
  optional string network = 1 [default = "main"];
  repeated Output outputs = 2;
  required uint64 time = 3;
  optional uint64 expires = 4;
  optional string memo = 5;
  optional string payment_url = 6;
  optional bytes merchant_data = 7;
}
message PaymentRequest {
  optional uint32 payment_details_version = 1 [default = 1];
  optional string pki_type = 2 [default = "none"];
  optional bytes pki_data = 3;
  required bytes serialized_payment_details = 4;
  optional bytes signature = 5;
}
message X509Certificates {
  repeated bytes certificate = 1;
}
message Payment {
  optional bytes merchant_data = 1;
  repeated bytes transactions = 2;
  repeated Output refund_to = 3;
  optional string memo = 4;
}
message PaymentACK {
  required Payment payment = 1;
  optional string memo = 2;
}
`;

/** The Subspace plaintext schema (documented in docs/PROTOCOL.md, "Payload"). */
export const PLAINTEXT_PROTO = `
syntax = "proto3";
package subspace;
message Plaintext {
  enum Type {
    TYPE_UNSPECIFIED = 0;
    TEXT = 1;
    PAYMENT_REQUEST = 2;
    PAYMENT = 3;
    PAYMENT_ACK = 4;
    PSBT = 5;
  }
  Type type = 1;
  uint64 created_time = 2;
  string memo = 3;
  bytes body = 4;
  string reply_to = 5;
  SenderSignature sender_signature = 6;
}
message SenderSignature {
  bytes pubkey = 1;
  bytes signature = 2;
}
`;

/** BIP70: PaymentRequest messages larger than this are rejected. */
export const MAX_PAYMENT_REQUEST_BYTES = 50_000;
/** BIP70: Payment messages larger than this are rejected. */
export const MAX_PAYMENT_BYTES = 50_000;
/** BIP70: PaymentACK messages larger than this are rejected. */
export const MAX_PAYMENT_ACK_BYTES = 60_000;

const bip70 = protobuf.parse(BIP70_PROTO, { keepCase: true }).root;
const subspace = protobuf.parse(PLAINTEXT_PROTO, { keepCase: true }).root;
const PaymentDetailsT = bip70.lookupType("payments.PaymentDetails");
const PaymentRequestT = bip70.lookupType("payments.PaymentRequest");
const PaymentT = bip70.lookupType("payments.Payment");
const PaymentAckT = bip70.lookupType("payments.PaymentACK");
const PlaintextT = subspace.lookupType("subspace.Plaintext");

/** Payload types, with their protobuf enum numbers. */
export const PAYLOAD_TYPES = {
  text: 1,
  payment_request: 2,
  payment: 3,
  payment_ack: 4,
  psbt: 5,
} as const;

/** Name of a payload type. */
export type PayloadType = keyof typeof PAYLOAD_TYPES;

const TYPE_BY_NUMBER = new Map<number, PayloadType>(
  Object.entries(PAYLOAD_TYPES).map(([k, v]) => [v, k as PayloadType]),
);

/** A decoded plaintext. */
export interface Payload {
  /** What `body` holds. */
  type: PayloadType;
  /** Creation time, Unix seconds. */
  createdTime: number;
  /** Free-form note ("" when absent). */
  memo: string;
  /** The body bytes, exactly as sent. */
  body: Uint8Array;
  /** Stealth address to answer to, if the sender gave one. */
  replyTo?: string;
  /** BIP340 signature by the sender, if any. */
  senderSignature?: { pubkey: Uint8Array; signature: Uint8Array };
}

/** Result of checking a payload's sender signature. */
export interface SignatureCheck {
  /** No signature present. */
  present: boolean;
  /** Signature verifies over the payload and the recipient's scan key. */
  valid: boolean;
  /** The signing key is a spend key of `replyTo` (so the signer owns that address). */
  matchesReplyTo: boolean;
}

function bytes(b: Uint8Array | undefined | null): Uint8Array {
  return b === undefined || b === null ? new Uint8Array(0) : new Uint8Array(b);
}

function protoError(what: string, e: unknown): RangeError {
  const msg = e instanceof Error ? e.message : String(e);
  return new RangeError(`Cannot parse ${what}: ${msg}`);
}

/** A BIP70 Output (amount in satoshis, output script). */
export interface Bip70Output {
  /** Amount in satoshis. */
  amount: number;
  /** Output script bytes. */
  script: Uint8Array;
}

/** Decoded BIP70 PaymentDetails. */
export interface PaymentDetails {
  /** "main" or "test". */
  network: string;
  /** Requested outputs. */
  outputs: Bip70Output[];
  /** Creation time, Unix seconds. */
  time: number;
  /** Expiry time, Unix seconds (0 = none). */
  expires: number;
  /** Memo for the payer. */
  memo: string;
  /** Where to send the Payment ("" = none). */
  paymentUrl: string;
  /** Opaque merchant data. */
  merchantData: Uint8Array;
}

/** Decoded BIP70 PaymentRequest with its details. */
export interface PaymentRequest {
  /** payment_details_version (1). */
  paymentDetailsVersion: number;
  /** "none", "x509+sha256" or "x509+sha1". */
  pkiType: string;
  /** Raw PKI data. */
  pkiData: Uint8Array;
  /** Raw serialized PaymentDetails. */
  serializedPaymentDetails: Uint8Array;
  /** Raw signature. */
  signature: Uint8Array;
  /** The parsed PaymentDetails. */
  details: PaymentDetails;
}

/** Decoded BIP70 Payment. */
export interface Payment {
  /** Opaque merchant data copied from the PaymentDetails. */
  merchantData: Uint8Array;
  /** Signed transactions. */
  transactions: Uint8Array[];
  /** Refund outputs. */
  refundTo: Bip70Output[];
  /** Memo for the merchant. */
  memo: string;
}

function toNumber(v: unknown, what: string): number {
  const n = typeof v === "number" ? v : Number(String(v ?? 0));
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Cannot parse ${what}: out of range`);
  return n;
}

function outputsOf(list: unknown[] | undefined, what: string): Bip70Output[] {
  return (list ?? []).map((o) => {
    const out = o as { amount?: unknown; script?: Uint8Array };
    return { amount: toNumber(out.amount, `${what} amount`), script: bytes(out.script) };
  });
}

/**
 * Parses and validates a serialized BIP70 PaymentRequest (at most 50,000 bytes).
 *
 * @throws {RangeError} naming the problem.
 */
export function parsePaymentRequest(data: Uint8Array): PaymentRequest {
  if (data.length > MAX_PAYMENT_REQUEST_BYTES) {
    throw new RangeError(
      `Cannot parse PaymentRequest: ${data.length} bytes exceeds the BIP70 limit of ${MAX_PAYMENT_REQUEST_BYTES}`,
    );
  }
  let req: Record<string, unknown>;
  let det: Record<string, unknown>;
  try {
    req = PaymentRequestT.toObject(PaymentRequestT.decode(data), { defaults: true, longs: String });
  } catch (e) {
    throw protoError("PaymentRequest", e);
  }
  try {
    det = PaymentDetailsT.toObject(
      PaymentDetailsT.decode(bytes(req.serialized_payment_details as Uint8Array)),
      { defaults: true, longs: String },
    );
  } catch (e) {
    throw protoError("PaymentRequest.serialized_payment_details", e);
  }
  if (req.payment_details_version !== 1) {
    throw new RangeError(
      `Cannot parse PaymentRequest: unsupported payment_details_version ${req.payment_details_version}`,
    );
  }
  return {
    paymentDetailsVersion: req.payment_details_version as number,
    pkiType: req.pki_type as string,
    pkiData: bytes(req.pki_data as Uint8Array),
    serializedPaymentDetails: bytes(req.serialized_payment_details as Uint8Array),
    signature: bytes(req.signature as Uint8Array),
    details: {
      network: det.network as string,
      outputs: outputsOf(det.outputs as unknown[], "PaymentDetails output"),
      time: toNumber(det.time, "PaymentDetails time"),
      expires: toNumber(det.expires, "PaymentDetails expires"),
      memo: det.memo as string,
      paymentUrl: det.payment_url as string,
      merchantData: bytes(det.merchant_data as Uint8Array),
    },
  };
}

/**
 * Parses and validates a serialized BIP70 Payment (at most 50,000 bytes).
 *
 * @throws {RangeError} naming the problem.
 */
export function parsePayment(data: Uint8Array): Payment {
  if (data.length > MAX_PAYMENT_BYTES) {
    throw new RangeError(
      `Cannot parse Payment: ${data.length} bytes exceeds the BIP70 limit of ${MAX_PAYMENT_BYTES}`,
    );
  }
  try {
    return paymentFromObject(
      PaymentT.toObject(PaymentT.decode(data), { defaults: true, longs: String }),
    );
  } catch (e) {
    throw protoError("Payment", e);
  }
}

function paymentFromObject(p: Record<string, unknown>): Payment {
  return {
    merchantData: bytes(p.merchant_data as Uint8Array),
    transactions: ((p.transactions as Uint8Array[]) ?? []).map(bytes),
    refundTo: outputsOf(p.refund_to as unknown[], "Payment refund_to"),
    memo: (p.memo as string) ?? "",
  };
}

/**
 * Parses and validates a serialized BIP70 PaymentACK (at most 60,000 bytes).
 *
 * @throws {RangeError} naming the problem.
 */
export function parsePaymentAck(data: Uint8Array): { payment: Payment; memo: string } {
  if (data.length > MAX_PAYMENT_ACK_BYTES) {
    throw new RangeError(
      `Cannot parse PaymentACK: ${data.length} bytes exceeds the BIP70 limit of ${MAX_PAYMENT_ACK_BYTES}`,
    );
  }
  try {
    const ack = PaymentAckT.toObject(PaymentAckT.decode(data), { defaults: true, longs: String });
    return {
      payment: paymentFromObject(ack.payment as Record<string, unknown>),
      memo: ack.memo as string,
    };
  } catch (e) {
    throw protoError("PaymentACK", e);
  }
}

/**
 * Validates a BIP174 PSBT with `@scure/btc-signer` and returns the parsed transaction.
 *
 * @throws {RangeError} when it does not parse.
 */
export function parsePsbt(data: Uint8Array): Transaction {
  try {
    return Transaction.fromPSBT(data, { allowUnknownOutputs: true, allowUnknownInputs: true });
  } catch (e) {
    throw protoError("PSBT", e);
  }
}

/**
 * Returns the output script paying to a Bitcoin address on `network`.
 *
 * @throws {RangeError} when the address does not parse for that network.
 */
export function scriptForAddress(address: string, network: "main" | "test"): Uint8Array {
  try {
    return OutScript.encode(Address(network === "main" ? NETWORK : TEST_NETWORK).decode(address));
  } catch (e) {
    const other = network === "main" ? "test" : "main";
    let onOther = false;
    try {
      Address(other === "main" ? NETWORK : TEST_NETWORK).decode(address);
      onOther = true;
    } catch { /* not an address there either */ }
    if (onOther) {
      throw new RangeError(
        `Bitcoin address '${address}' is a ${other}net address, but this is for ${network}net`,
      );
    }
    throw protoError(`Bitcoin address '${address}' for network ${network}`, e);
  }
}

/**
 * The address an output script pays to on `network`, or `undefined` for scripts that have
 * none (bare multisig, OP_RETURN, unknown).
 *
 * @example
 * ```ts
 * addressOfScript(scriptForAddress("bc1q...", "main"), "main"); // "bc1q..."
 * ```
 */
export function addressOfScript(script: Uint8Array, network: "main" | "test"): string | undefined {
  try {
    return Address(network === "main" ? NETWORK : TEST_NETWORK).encode(OutScript.decode(script));
  } catch {
    return undefined;
  }
}

/**
 * Builds a serialized BIP70 PaymentRequest (pki_type "none", unsigned).
 *
 * @example
 * ```ts
 * const req = buildPaymentRequest({ network: "test", time: 1700000000,
 *   outputs: [{ amount: 1000, script: scriptForAddress("tb1q...", "test") }] });
 * ```
 */
export function buildPaymentRequest(opts: {
  network?: "main" | "test";
  outputs: Bip70Output[];
  time: number;
  expires?: number;
  memo?: string;
  paymentUrl?: string;
  merchantData?: Uint8Array;
}): Uint8Array {
  if (opts.outputs.length === 0) throw new RangeError("Cannot build PaymentRequest: no outputs");
  for (const o of opts.outputs) {
    if (!Number.isSafeInteger(o.amount) || o.amount < 0) {
      throw new RangeError(`Cannot build PaymentRequest: bad amount ${o.amount}`);
    }
  }
  const details: Record<string, unknown> = {
    network: opts.network ?? "main",
    outputs: opts.outputs.map((o) => ({ amount: o.amount, script: o.script })),
    time: opts.time,
  };
  if (opts.expires !== undefined) details.expires = opts.expires;
  if (opts.memo !== undefined) details.memo = opts.memo;
  if (opts.paymentUrl !== undefined) details.payment_url = opts.paymentUrl;
  if (opts.merchantData !== undefined) details.merchant_data = opts.merchantData;
  const serialized = PaymentDetailsT.encode(PaymentDetailsT.create(details)).finish();
  const out = bytes(
    PaymentRequestT.encode(
      PaymentRequestT.create({
        payment_details_version: 1,
        pki_type: "none",
        serialized_payment_details: serialized,
      }),
    ).finish(),
  );
  parsePaymentRequest(out);
  return out;
}

/**
 * Builds a serialized BIP70 Payment.
 *
 * @example
 * ```ts
 * const p = buildPayment({ transactions: [txBytes], memo: "thanks" });
 * ```
 */
export function buildPayment(opts: {
  transactions: Uint8Array[];
  refundTo?: Bip70Output[];
  memo?: string;
  merchantData?: Uint8Array;
}): Uint8Array {
  const p: Record<string, unknown> = {
    transactions: opts.transactions,
    refund_to: (opts.refundTo ?? []).map((o) => ({ amount: o.amount, script: o.script })),
  };
  if (opts.memo !== undefined) p.memo = opts.memo;
  if (opts.merchantData !== undefined) p.merchant_data = opts.merchantData;
  const out = bytes(PaymentT.encode(PaymentT.create(p)).finish());
  parsePayment(out);
  return out;
}

/**
 * Builds a serialized BIP70 PaymentACK for a Payment.
 */
export function buildPaymentAck(payment: Uint8Array, memo?: string): Uint8Array {
  const ack: Record<string, unknown> = { payment: PaymentT.decode(payment) };
  if (memo !== undefined) ack.memo = memo;
  return bytes(PaymentAckT.encode(PaymentAckT.create(ack)).finish());
}

/**
 * Checks that `body` is a valid body for `type` (UTF-8 text, BIP70 message within its limit,
 * or a PSBT).
 *
 * @throws {RangeError} naming the problem.
 */
export function validateBody(type: PayloadType, body: Uint8Array): void {
  switch (type) {
    case "text":
      try {
        utf8Strict.decode(body);
      } catch {
        throw new RangeError("Cannot parse text body: not valid UTF-8");
      }
      return;
    case "payment_request":
      parsePaymentRequest(body);
      return;
    case "payment":
      parsePayment(body);
      return;
    case "payment_ack":
      parsePaymentAck(body);
      return;
    case "psbt":
      parsePsbt(body);
      return;
  }
}

const SIG_DOMAIN = utf8.encode("subspace/payload-sig/v1");

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/**
 * The 32-byte message a sender signs (docs/PROTOCOL.md, "Sender signature"): SHA-256 over the
 * domain, the recipient's scan key and every payload field, each variable field length-prefixed.
 */
export function signatureDigest(
  p: Omit<Payload, "senderSignature">,
  recipientScanPubkey: Uint8Array,
): Uint8Array {
  const t = new Uint8Array(8);
  new DataView(t.buffer).setBigUint64(0, BigInt(p.createdTime));
  const memo = utf8.encode(p.memo);
  const reply = utf8.encode(p.replyTo ?? "");
  return sha256(concat(
    SIG_DOMAIN,
    recipientScanPubkey,
    Uint8Array.of(PAYLOAD_TYPES[p.type]),
    t,
    u32(memo.length),
    memo,
    u32(p.body.length),
    p.body,
    u32(reply.length),
    reply,
  ));
}

/** Options for {@link encodePayload}. */
export interface EncodeOptions {
  /** Sign as the sender with this secret key (BIP340), binding the recipient's scan key. */
  signWith?: { secret: Uint8Array; recipientScanPubkey: Uint8Array };
  /** Randomness for the BIP340 auxiliary data. */
  random?: RandomBytes;
}

/**
 * Validates and serializes a payload.
 *
 * @throws {RangeError} when the body does not match its type or the result is too large.
 * @example
 * ```ts
 * const bytes = encodePayload({ type: "text", createdTime: 1700000000, memo: "",
 *   body: utf8.encode("hi") });
 * ```
 */
export function encodePayload(p: Payload, opts: EncodeOptions = {}): Uint8Array {
  if (!(p.type in PAYLOAD_TYPES)) throw new RangeError(`Cannot encode payload: type ${p.type}`);
  if (!Number.isSafeInteger(p.createdTime) || p.createdTime < 0) {
    throw new RangeError(`Cannot encode payload: bad created time ${p.createdTime}`);
  }
  validateBody(p.type, p.body);
  if (p.replyTo !== undefined && p.replyTo !== "") decodeStealthAddress(p.replyTo);
  let signature = p.senderSignature;
  if (opts.signWith !== undefined) {
    const digest = signatureDigest(p, opts.signWith.recipientScanPubkey);
    const aux = (opts.random ?? defaultRandomBytes)(32);
    signature = {
      pubkey: secp.schnorr.getPublicKey(opts.signWith.secret),
      signature: secp.schnorr.sign(digest, opts.signWith.secret, aux),
    };
  }
  const msg: Record<string, unknown> = {
    type: PAYLOAD_TYPES[p.type],
    created_time: p.createdTime,
    memo: p.memo,
    body: p.body,
  };
  if (p.replyTo !== undefined && p.replyTo !== "") msg.reply_to = p.replyTo;
  if (signature !== undefined) msg.sender_signature = signature;
  const out = bytes(PlaintextT.encode(PlaintextT.create(msg)).finish());
  if (out.length > MAX_MESSAGE_BYTES) {
    throw new RangeError(
      `Cannot encode payload: ${out.length} bytes exceeds the envelope maximum of ${MAX_MESSAGE_BYTES}`,
    );
  }
  return out;
}

/**
 * Parses a serialized payload and validates its body against its type.
 *
 * @throws {RangeError} naming the problem.
 */
export function decodePayload(data: Uint8Array): Payload {
  let m: Record<string, unknown>;
  try {
    m = PlaintextT.toObject(PlaintextT.decode(data), {
      defaults: true,
      enums: Number,
      longs: String,
    });
  } catch (e) {
    throw protoError("payload", e);
  }
  const type = TYPE_BY_NUMBER.get(m.type as number);
  if (type === undefined) throw new RangeError(`Cannot parse payload: unknown type ${m.type}`);
  const body = bytes(m.body as Uint8Array);
  validateBody(type, body);
  const out: Payload = {
    type,
    createdTime: toNumber(m.created_time, "payload created time"),
    memo: m.memo as string,
    body,
  };
  if (typeof m.reply_to === "string" && m.reply_to !== "") out.replyTo = m.reply_to;
  const sig = m.sender_signature as { pubkey?: Uint8Array; signature?: Uint8Array } | undefined;
  if (sig !== undefined && sig !== null) {
    out.senderSignature = { pubkey: bytes(sig.pubkey), signature: bytes(sig.signature) };
  }
  return out;
}

/**
 * Verifies a payload's sender signature for the recipient `recipientScanPubkey`, and whether
 * the signer owns the payload's `replyTo` address.
 *
 * @example
 * ```ts
 * const check = verifySender(payload, keys.scanPubkey);
 * ```
 */
export function verifySender(p: Payload, recipientScanPubkey: Uint8Array): SignatureCheck {
  const sig = p.senderSignature;
  if (sig === undefined) return { present: false, valid: false, matchesReplyTo: false };
  let valid = false;
  try {
    valid = sig.pubkey.length === 32 && sig.signature.length === 64 &&
      secp.schnorr.verify(sig.signature, signatureDigest(p, recipientScanPubkey), sig.pubkey);
  } catch {
    valid = false;
  }
  let matchesReplyTo = false;
  if (valid && p.replyTo !== undefined) {
    try {
      const a = decodeStealthAddress(p.replyTo);
      const keys = [...a.spendPubkeys];
      if (spendKeyCount(a) > a.spendPubkeys.length) keys.push(a.scanPubkey);
      matchesReplyTo = keys.some((k) => k.subarray(1).every((b, i) => b === sig.pubkey[i]));
    } catch {
      matchesReplyTo = false;
    }
  }
  return { present: true, valid, matchesReplyTo };
}

/** Decodes the body of a text payload. */
export function textOf(p: Payload): string {
  return utf8Strict.decode(p.body);
}

/**
 * Encodes a BIP70 Output for JSON output: amount, script hex and, given the network, the address
 * it pays (`null` when the script has none).
 */
export function outputToJson(
  o: Bip70Output,
  network?: "main" | "test",
): { amount: number; script: string; address?: string | null } {
  const out: { amount: number; script: string; address?: string | null } = {
    amount: o.amount,
    script: toHex(o.script),
  };
  if (network !== undefined) out.address = addressOfScript(o.script, network) ?? null;
  return out;
}
