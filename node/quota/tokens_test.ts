import assert from "node:assert/strict";
import { openStore, type Store } from "../store/mod.ts";
import { blind, finalize } from "./blind_rsa.ts";
import { generateIssuerKey, ISSUER_KEY_FILE, IssuerKeyRing } from "./issuer_keys.ts";
import { SpentSet } from "./spent.ts";
import { QUOTA_MIGRATIONS } from "./migration.ts";
import { AccountError, QuotaStore } from "./store.ts";
import {
  decodeTokenKey,
  encodeToken,
  NONCE_BYTES,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  type TokenRequest,
} from "../../client/mod.ts";
import {
  accountHash,
  IssueError,
  newAccountNumber,
  parseAccountNumber,
  TokenService,
} from "./tokens.ts";

/** One shared key for the tests of this file (RSA key generation is slow). */
const KEY = await generateIssuerKey();
const OTHER_KEY = await generateIssuerKey();

interface Fixture {
  store: Store;
  qs: QuotaStore;
  svc: TokenService;
  ring: IssuerKeyRing;
  dir: string;
  clock: { now: number };
  close(): Promise<void>;
}

async function fixture(
  opts: {
    freeTokens?: number;
    periodMs?: number;
    maxMemory?: number;
    key?: typeof KEY;
    issuerName?: string;
  } = {},
): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "subspace-quota-" });
  const store = await openStore({ dataDir: dir });
  const quotaDb = await store.openFeatureDatabase({
    dataDir: dir,
    name: "quota",
    migrations: QUOTA_MIGRATIONS,
    writerThread: true,
  });
  const qs = new QuotaStore(quotaDb.db, quotaDb.writer);
  const clock = { now: Date.UTC(2026, 0, 1) };
  const ring = await IssuerKeyRing.open({
    dataDir: dir,
    rotationSeconds: 3600,
    overlapSeconds: 1800,
    now: () => clock.now,
    // The first key is shared (generation is slow); later rotations draw fresh ones.
    generate: (() => {
      let calls = 0;
      return () => calls++ === 0 ? Promise.resolve(opts.key ?? KEY) : generateIssuerKey();
    })(),
  });
  const spent = new SpentSet(store, { maxMemory: opts.maxMemory ?? 1000 });
  const svc = new TokenService({
    ring,
    store: qs,
    spent,
    issuerName: opts.issuerName ?? "node.test",
    policy: () => ({ freeTokens: opts.freeTokens ?? 5, periodMs: opts.periodMs ?? 86_400_000 }),
    maxPerRequest: 50,
    now: () => clock.now,
  });
  return {
    store,
    qs,
    svc,
    ring,
    dir,
    clock,
    async close() {
      await quotaDb.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A wallet's side: blinded requests and the state needed to finalize them. */
function makeRequests(svc: TokenService, n: number) {
  const key = svc.ring.active();
  const pk = decodeTokenKey(key.tokenKey);
  return Array.from({ length: n }, () => {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const input = tokenInput({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce,
      challengeDigest: svc.challengeDigest,
      tokenKeyId: key.id,
    });
    const { blindedMsg, inv } = blind(pk, input);
    const request: TokenRequest = {
      tokenType: TOKEN_TYPE_BLIND_RSA,
      truncatedTokenKeyId: key.truncatedId,
      blindedMsg,
    };
    const finish = (blindSig: Uint8Array) =>
      encodeToken({
        tokenType: TOKEN_TYPE_BLIND_RSA,
        nonce,
        challengeDigest: svc.challengeDigest,
        tokenKeyId: key.id,
        authenticator: finalize(pk, input, blindSig, inv),
      });
    return { request, finish };
  });
}

async function issueTokens(f: Fixture, account: Uint8Array, n: number): Promise<Uint8Array[]> {
  const reqs = makeRequests(f.svc, n);
  const { blindSigs } = await f.svc.issue(accountHash(account), reqs.map((r) => r.request));
  return blindSigs.map((s, i) => reqs[i]!.finish(s));
}

Deno.test("account numbers: 128 bits of hex, parsed leniently, hashed for storage", () => {
  const a = newAccountNumber();
  assert.match(a, /^[0-9a-f]{32}$/);
  const bytes = parseAccountNumber(a.slice(0, 8) + "-" + a.slice(8).toUpperCase());
  assert.equal(bytes.toHex(), a);
  assert.throws(() => parseAccountNumber("abc"), /32 hex characters, got 3/);
  assert.throws(() => parseAccountNumber("z".repeat(32)), /hex characters/);
  assert.equal(accountHash(bytes).length, 32);
  assert.notDeepEqual(accountHash(bytes), accountHash(parseAccountNumber(newAccountNumber())));
});

Deno.test("issue within the free quota, then credit; redeem once; refuse the rest", async () => {
  const f = await fixture({ freeTokens: 3, periodMs: 600_000 });
  try {
    const account = parseAccountNumber(newAccountNumber());
    await f.qs.createAccount(accountHash(account), f.clock.now, "signup");
    const tokens = await issueTokens(f, account, 3);
    await assert.rejects(
      () => issueTokens(f, account, 1),
      (e) => e instanceof AccountError && e.code === "insufficient" && e.available === 0,
    );
    await f.qs.credit(accountHash(account), 2);
    await assert.rejects(() => issueTokens(f, account, 3), /2 available/);
    tokens.push(...await issueTokens(f, account, 2));
    assert.equal((await f.qs.getAccount(accountHash(account)))!.credit, 0);
    // The next period refills the free quota.
    f.clock.now += 600_000;
    assert.equal((await issueTokens(f, account, 3)).length, 3);

    for (const t of tokens.slice(0, 4)) {
      assert.deepEqual(await f.svc.redeem(t), { ok: true, keyId: f.svc.ring.keys()[0]!.idHex });
    }
    const again = await f.svc.redeem(tokens[0]!);
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.reason, "spent");

    const forged = tokens[4]!.slice();
    forged[forged.length - 1]! ^= 1;
    const r = await f.svc.redeem(forged);
    assert.equal(!r.ok && r.reason, "signature");
    const otherNonce = tokens[4]!.slice();
    otherNonce[5]! ^= 1;
    assert.equal((await f.svc.redeem(otherNonce) as { reason: string }).reason, "signature");
    assert.equal(
      (await f.svc.redeem(new Uint8Array(10)) as { reason: string }).reason,
      "malformed",
    );
    assert.deepEqual((await f.svc.redeem(tokens[4]!)).ok, true);
  } finally {
    await f.close();
  }
});

Deno.test("unknown, disabled accounts and bad requests are refused before signing", async () => {
  const f = await fixture();
  try {
    const account = parseAccountNumber(newAccountNumber());
    await assert.rejects(
      () => issueTokens(f, account, 1),
      (e) => (e as AccountError).code === "unknown",
    );
    await f.qs.createAccount(accountHash(account), f.clock.now, "admin");
    await f.qs.setDisabled(accountHash(account), true);
    await assert.rejects(
      () => issueTokens(f, account, 1),
      (e) => (e as AccountError).code === "disabled",
    );
    await f.qs.setDisabled(accountHash(account), false);
    const [req] = makeRequests(f.svc, 1);
    await assert.rejects(
      () =>
        f.svc.issue(accountHash(account), [{
          ...req!.request,
          truncatedTokenKeyId: (req!.request.truncatedTokenKeyId + 1) % 256,
        }]),
      (e) => e instanceof IssueError && e.code === "key",
    );
    await assert.rejects(
      () =>
        f.svc.issue(accountHash(account), [{
          ...req!.request,
          blindedMsg: new Uint8Array(256).fill(255),
        }]),
      (e) => e instanceof IssueError && e.code === "input",
    );
    await assert.rejects(
      () => f.svc.issue(accountHash(account), Array(51).fill(req!.request)),
      (e) => e instanceof IssueError && e.code === "limit",
    );
    // Nothing was taken from the quota by the refused requests.
    assert.equal((await f.qs.getAccount(accountHash(account)))!.issuedTotal, 0);
  } finally {
    await f.close();
  }
});

Deno.test("a token from another issuer or for another challenge is refused", async () => {
  const a = await fixture();
  const b = await fixture({ key: OTHER_KEY });
  const c = await fixture({ issuerName: "elsewhere.test" });
  try {
    const account = parseAccountNumber(newAccountNumber());
    for (const f of [a, b, c]) await f.qs.createAccount(accountHash(account), f.clock.now, "admin");
    const [fromB] = await issueTokens(b, account, 1);
    assert.equal((await a.svc.redeem(fromB!) as { reason: string }).reason, "unknown-key");
    // Same key, other issuer name: the challenge digest differs.
    const [fromC] = await issueTokens(c, account, 1);
    assert.equal((await a.svc.redeem(fromC!) as { reason: string }).reason, "challenge");
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

for (const maxMemory of [1000, 0]) {
  Deno.test(`100 concurrent redemptions of one token: exactly one succeeds (memory ${maxMemory})`, async () => {
    const f = await fixture({ maxMemory });
    try {
      const account = parseAccountNumber(newAccountNumber());
      await f.qs.createAccount(accountHash(account), f.clock.now, "admin");
      const [token] = await issueTokens(f, account, 1);
      const results = await Promise.all(Array.from({ length: 100 }, () => f.svc.redeem(token!)));
      assert.equal(results.filter((r) => r.ok).length, 1);
      assert.equal(results.filter((r) => !r.ok && r.reason === "spent").length, 99);
      assert.equal(await f.store.spentCount(), 1);
    } finally {
      await f.close();
    }
  });
}

Deno.test("keys rotate with an overlap, persist with mode 0600, and their nonces expire", async () => {
  const f = await fixture({ freeTokens: 10 });
  try {
    const info = await Deno.stat(`${f.dir}/${ISSUER_KEY_FILE}`);
    assert.equal(info.mode! & 0o777, 0o600);
    const account = parseAccountNumber(newAccountNumber());
    await f.qs.createAccount(accountHash(account), f.clock.now, "admin");
    const [early, earlySpent] = await issueTokens(f, account, 2);
    assert.equal((await f.svc.redeem(earlySpent!)).ok, true);
    const first = f.ring.active();

    // Past the rotation period a new key signs; the old one still verifies (overlap).
    f.clock.now += 3600_000;
    let generated = 0;
    const ring2 = await IssuerKeyRing.open({
      dataDir: f.dir,
      rotationSeconds: 3600,
      overlapSeconds: 1800,
      now: () => f.clock.now,
      generate: () => (generated++, Promise.resolve(OTHER_KEY)),
    });
    assert.equal(generated, 1);
    assert.notEqual(ring2.active().idHex, first.idHex);
    assert.equal(ring2.verifying(first.id)?.idHex, first.idHex);
    assert.equal(ring2.directoryKeys().length, 2);
    assert.equal(
      ring2.directoryKeys()[1]!["token-key"],
      ring2.active().tokenKey.toBase64({ alphabet: "base64url" }),
    );

    // Reloading does not generate again.
    const ring3 = await IssuerKeyRing.open({
      dataDir: f.dir,
      rotationSeconds: 3600,
      overlapSeconds: 1800,
      now: () => f.clock.now,
      generate: () => Promise.reject(new Error("should not generate")),
    });
    assert.deepEqual(ring3.keys().map((k) => k.idHex), ring2.keys().map((k) => k.idHex));

    // After the overlap the old key is gone, its tokens refused and its nonces swept.
    f.clock.now += 1800_000;
    await f.ring.maintain();
    assert.equal(f.ring.verifying(first.id), undefined);
    assert.equal((await f.svc.redeem(early!) as { reason: string }).reason, "unknown-key");
    assert.equal(await f.svc.spent.sweep(f.clock.now), 1);
  } finally {
    await f.close();
  }
});
