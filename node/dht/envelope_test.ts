import assert from "node:assert/strict";
import {
  HEADER,
  NonceCache,
  signRequest,
  signResponse,
  verifyRequest,
  verifyResponse,
  type WireRequest,
} from "./envelope.ts";
import { generateIdentity, secp256k1Scheme } from "./identity.ts";

const alice = generateIdentity();
const bob = generateIdentity();
const enc = new TextEncoder();
const NOW = 1_700_000_000_000;

function req(overrides: Partial<Parameters<typeof signRequest>[0]> = {}): WireRequest {
  return signRequest({
    identity: alice,
    selfUrl: "https://alice.example",
    rpc: "find_node",
    to: bob.id,
    body: enc.encode('{"target":"' + "00".repeat(20) + '"}'),
    nowMs: NOW,
    nonce: "ab".repeat(16),
    ...overrides,
  });
}

function verify(wire: WireRequest, nonces = new NonceCache({ maxEntries: 10, windowMs: 120_000 })) {
  return verifyRequest({
    rpc: "find_node",
    wire,
    scheme: secp256k1Scheme,
    selfId: bob.id,
    nowMs: NOW + 1000,
    maxSkewMs: 60_000,
    nonces,
    allowAnyAddressee: true,
  });
}

Deno.test("a signed request verifies and names its sender", () => {
  const v = verify(req());
  assert.ok(v.ok);
  assert.equal(v.ok && v.from.id, alice.id);
  assert.equal(v.ok && v.from.url, "https://alice.example");
});

Deno.test("unsigned, tampered, stale, misaddressed and impersonating requests are refused", () => {
  const good = req();
  const unsigned = { ...good, headers: { ...good.headers } };
  delete unsigned.headers[HEADER.signature];
  assert.deepEqual(verify(unsigned), { ok: false, status: 401, reason: "unsigned request" });

  assert.equal(verify({ ...good, body: enc.encode("{}") }).ok, false); // body changed
  const urlSwap = {
    ...good,
    headers: { ...good.headers, [HEADER.nodeUrl]: "https://evil.example" },
  };
  assert.match((verify(urlSwap) as { reason: string }).reason, /bad signature/);

  const stale = req({ nowMs: NOW - 120_000 });
  assert.match((verify(stale) as { reason: string }).reason, /window/);

  const other = req({ to: alice.id });
  assert.equal((verify(other) as { status: number }).status, 421);

  // Claiming Bob's id with Alice's key: id must be hash160(key).
  const claim = { ...good, headers: { ...good.headers, [HEADER.nodeId]: bob.id } };
  assert.match((verify(claim) as { reason: string }).reason, /hash160/);
});

Deno.test("a replayed request is refused; a full nonce cache fails closed", () => {
  const nonces = new NonceCache({ maxEntries: 2, windowMs: 120_000 });
  const wire = req();
  assert.ok(verify(wire, nonces).ok);
  assert.deepEqual(verify(wire, nonces), { ok: false, status: 401, reason: "replayed nonce" });
  assert.ok(verify(req({ nonce: "cd".repeat(16) }), nonces).ok);
  assert.equal((verify(req({ nonce: "ef".repeat(16) }), nonces) as { status: number }).status, 503);
});

Deno.test("an empty addressee is only accepted where allowed", () => {
  const v = verifyRequest({
    rpc: "find_node",
    wire: req({ to: "" }),
    scheme: secp256k1Scheme,
    selfId: bob.id,
    nowMs: NOW,
    maxSkewMs: 60_000,
    nonces: new NonceCache({ maxEntries: 10, windowMs: 1 }),
    allowAnyAddressee: false,
  });
  assert.equal(v.ok, false);
});

Deno.test("responses are bound to the request nonce and the expected responder", () => {
  const body = enc.encode('{"nodes":[]}');
  const res = signResponse({
    identity: bob,
    selfUrl: "https://bob.example",
    rpc: "find_node",
    requestNonce: "ab".repeat(16),
    status: 200,
    body,
    nowMs: NOW,
  });
  const check = (over: Partial<Parameters<typeof verifyResponse>[0]>) =>
    verifyResponse({
      rpc: "find_node",
      wire: res,
      scheme: secp256k1Scheme,
      requestNonce: "ab".repeat(16),
      expectId: bob.id,
      ...over,
    });
  assert.ok(check({}).ok);
  assert.equal(check({ requestNonce: "cd".repeat(16) }).ok, false);
  assert.equal(check({ expectId: alice.id }).ok, false);
  assert.equal(check({ wire: { ...res, status: 404 } }).ok, false);
  assert.equal(check({ wire: { ...res, body: enc.encode("{}") } }).ok, false);
  assert.ok(check({ expectId: "" }).ok);
});
