import assert from "node:assert/strict";
import { NETWORK, p2wpkh, Transaction } from "@scure/btc-signer";
import {
  buildPayment,
  buildPaymentAck,
  buildPaymentRequest,
  decodePayload,
  encodePayload,
  MAX_PAYMENT_REQUEST_BYTES,
  parsePayment,
  parsePaymentAck,
  parsePaymentRequest,
  parsePsbt,
  type Payload,
  scriptForAddress,
  textOf,
  verifySender,
} from "./payload.ts";
import { fromHex, toHex, utf8 } from "./bytes.ts";
import { secp } from "./_secp.ts";
import { addressForKeys, keysFromSecrets } from "./keys.ts";
import { encodeStealthAddress } from "./stealth_address.ts";

/** A one-input, one-output PSBT built with @scure/btc-signer. */
export function samplePsbt(): Uint8Array {
  const key = fromHex("0101010101010101010101010101010101010101010101010101010101010101");
  const pay = p2wpkh(secp.getPublicKey(key, true), NETWORK);
  const tx = new Transaction();
  tx.addInput({
    txid: "c".repeat(64),
    index: 0,
    witnessUtxo: { script: pay.script, amount: 50_000n },
  });
  tx.addOutputAddress(pay.address!, 40_000n, NETWORK);
  return tx.toPSBT();
}

const MAIN_ADDR = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"; // BIP173 example

Deno.test("BIP70 PaymentRequest builds, parses and keeps its fields", () => {
  const script = scriptForAddress(MAIN_ADDR, "main");
  assert.equal(toHex(script), "0014751e76e8199196d454941c45d1b3a323f1433bd6");
  const req = buildPaymentRequest({
    network: "main",
    outputs: [{ amount: 123_456, script }],
    time: 1_700_000_000,
    expires: 1_700_003_600,
    memo: "invoice #7",
    paymentUrl: "https://merchant.example/pay",
    merchantData: utf8.encode("order-7"),
  });
  const p = parsePaymentRequest(req);
  assert.equal(p.pkiType, "none");
  assert.equal(p.paymentDetailsVersion, 1);
  assert.deepEqual(p.details.outputs, [{ amount: 123_456, script }]);
  assert.equal(p.details.time, 1_700_000_000);
  assert.equal(p.details.expires, 1_700_003_600);
  assert.equal(p.details.memo, "invoice #7");
  assert.equal(p.details.paymentUrl, "https://merchant.example/pay");
  assert.equal(new TextDecoder().decode(p.details.merchantData), "order-7");
  assert.throws(
    () => scriptForAddress(MAIN_ADDR, "test"),
    /is a mainnet address, but this is for testnet/,
  );
});

Deno.test("BIP70 wire format: hand-assembled PaymentRequest parses (field numbers per BIP70)", () => {
  // PaymentDetails { outputs: [{ amount: 1000 (field 1), script: 0x51 (field 2) }], time: 5 }
  const details = fromHex("12" + "06" + "08e807" + "1201" + "51" + "1805");
  const req = new Uint8Array([0x22, details.length, ...details]); // field 4, bytes
  const p = parsePaymentRequest(req);
  assert.equal(p.details.network, "main"); // default
  assert.equal(p.pkiType, "none"); // default
  assert.deepEqual(p.details.outputs, [{ amount: 1000, script: Uint8Array.of(0x51) }]);
  assert.equal(p.details.time, 5);
  // Missing required serialized_payment_details / time.
  assert.throws(() => parsePaymentRequest(new Uint8Array(0)), /serialized_payment_details/);
  assert.throws(() => parsePaymentRequest(fromHex("2200")), /time/);
});

Deno.test("BIP70 size limits are enforced", () => {
  const big = new Uint8Array(MAX_PAYMENT_REQUEST_BYTES + 1);
  assert.throws(() => parsePaymentRequest(big), /exceeds the BIP70 limit of 50000/);
  assert.throws(() => parsePayment(big), /exceeds the BIP70 limit of 50000/);
  assert.throws(() => parsePaymentAck(new Uint8Array(60_001)), /limit of 60000/);
});

Deno.test("BIP70 Payment and PaymentACK round trip", () => {
  const tx = fromHex("0200000000010000000000");
  const payment = buildPayment({
    transactions: [tx],
    refundTo: [{ amount: 0, script: scriptForAddress(MAIN_ADDR, "main") }],
    memo: "paid",
    merchantData: Uint8Array.of(1, 2, 3),
  });
  const p = parsePayment(payment);
  assert.deepEqual(p.transactions, [tx]);
  assert.equal(p.memo, "paid");
  assert.deepEqual(p.merchantData, Uint8Array.of(1, 2, 3));
  const ack = parsePaymentAck(buildPaymentAck(payment, "thanks"));
  assert.equal(ack.memo, "thanks");
  assert.deepEqual(ack.payment.transactions, [tx]);
});

Deno.test("PSBT bodies are validated with @scure/btc-signer", () => {
  const psbt = samplePsbt();
  assert.equal(parsePsbt(psbt).outputsLength, 1);
  assert.throws(() => parsePsbt(utf8.encode("psbt\xff but not really")), /Cannot parse PSBT/);
  const bytes = encodePayload({ type: "psbt", createdTime: 1, memo: "", body: psbt });
  assert.equal(toHex(decodePayload(bytes).body), toHex(psbt));
  assert.throws(
    () => encodePayload({ type: "psbt", createdTime: 1, memo: "", body: new Uint8Array(5) }),
    /PSBT/,
  );
});

Deno.test("payload round trip for every type keeps body bytes exactly", () => {
  const req = buildPaymentRequest({
    outputs: [{ amount: 1, script: scriptForAddress(MAIN_ADDR, "main") }],
    time: 1,
  });
  const payment = buildPayment({ transactions: [Uint8Array.of(1)] });
  const bodies: [Payload["type"], Uint8Array][] = [
    ["text", utf8.encode("héllo ✓")],
    ["payment_request", req],
    ["payment", payment],
    ["payment_ack", buildPaymentAck(payment)],
    ["psbt", samplePsbt()],
  ];
  for (const [type, body] of bodies) {
    const p: Payload = { type, createdTime: 1_700_000_000, memo: `memo ${type}`, body };
    const back = decodePayload(encodePayload(p));
    assert.deepEqual(back, p);
  }
  assert.equal(
    textOf(
      decodePayload(
        encodePayload({ ...{ type: "text" }, createdTime: 0, memo: "", body: utf8.encode("x") }),
      ),
    ),
    "x",
  );
  assert.throws(
    () => encodePayload({ type: "text", createdTime: 0, memo: "", body: Uint8Array.of(0xff) }),
    /UTF-8/,
  );
  assert.throws(() => decodePayload(Uint8Array.of(0x08, 0x09)), /unknown type 9/);
  // Type 0 (TYPE_UNSPECIFIED), explicit or absent, is rejected too (docs/PROTOCOL.md).
  assert.throws(() => decodePayload(Uint8Array.of(0x08, 0x00)), /unknown type 0/);
  assert.throws(() => decodePayload(new Uint8Array(0)), /unknown type 0/);
  assert.throws(() => decodePayload(Uint8Array.of(0xff)), /Cannot parse payload/);
});

Deno.test("sender signatures bind the recipient and prove ownership of reply-to", () => {
  const sender = keysFromSecrets(
    fromHex("11".repeat(32)),
    fromHex("22".repeat(32)),
    "mainnet",
  );
  const replyTo = encodeStealthAddress(addressForKeys(sender, { prefixBits: 4 }));
  const recipientScan = secp.getPublicKey(fromHex("33".repeat(32)), true);
  const p: Payload = {
    type: "text",
    createdTime: 1_700_000_000,
    memo: "",
    body: utf8.encode("signed hello"),
    replyTo,
  };
  const signed = decodePayload(
    encodePayload(p, {
      signWith: { secret: sender.spendSecret, recipientScanPubkey: recipientScan },
    }),
  );
  assert.deepEqual(verifySender(signed, recipientScan), {
    present: true,
    valid: true,
    matchesReplyTo: true,
  });
  const otherRecipient = secp.getPublicKey(fromHex("44".repeat(32)), true);
  assert.equal(verifySender(signed, otherRecipient).valid, false);
  assert.equal(verifySender({ ...signed, memo: "changed" }, recipientScan).valid, false);
  assert.deepEqual(verifySender(p, recipientScan), {
    present: false,
    valid: false,
    matchesReplyTo: false,
  });
  // Signed by a key that is not in reply-to.
  const forged = decodePayload(
    encodePayload(p, {
      signWith: { secret: fromHex("55".repeat(32)), recipientScanPubkey: recipientScan },
    }),
  );
  assert.deepEqual(verifySender(forged, recipientScan), {
    present: true,
    valid: true,
    matchesReplyTo: false,
  });
  assert.throws(() => encodePayload({ ...p, replyTo: "notanaddress0" }), /stealth address/);
});
