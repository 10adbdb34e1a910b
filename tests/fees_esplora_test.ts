/**
 * The Esplora client and the invoice poller against a fake Esplora server speaking real HTTP on
 * 127.0.0.1, crediting real quota accounts; the quota and fees tables on SQLite (and
 * PostgreSQL when SUBSPACE_TEST_PG_URL is set), including the copy of older invoices.
 */
import assert from "node:assert/strict";
import {
  EsploraClient,
  EsploraError,
  feesMigrations,
  FeesStore,
  type Invoice,
  InvoiceService,
  parseXpub,
} from "../node/fees/mod.ts";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { join } from "node:path";
import {
  type AccountCredit,
  accountHash,
  newAccountNumber,
  parseAccountNumber,
  QUOTA_MIGRATIONS,
  quotaMigration,
  QuotaStore,
} from "../node/quota/mod.ts";
import { openSqlite, openStore, type Store } from "../node/store/mod.ts";
import { fakeEsplora } from "./_esplora.ts";

const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const XPUB =
  "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";
const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

/** An invoice row for store tests. */
function invoiceRow(id: number, xpub: string, index: number, address: string): Invoice {
  return {
    id: id.toString(16).padStart(32, "0"),
    accountHash: new Uint8Array(32),
    address,
    xpub,
    addressIndex: index,
    amountSats: 1000,
    tokens: 10,
    createdAt: id,
    expiresAt: id + 3600_000,
    status: "pending",
    receivedSats: 0,
    paidAt: null,
  };
}

/** Address indices count per key: a second key starts at 0; the same address is refused. */
async function checkIndicesPerKey(qs: FeesStore) {
  assert.equal(await qs.nextAddressIndex(ZPUB), 0);
  assert.equal(await qs.insertInvoice(invoiceRow(1, ZPUB, 0, "addr-z0")), true);
  assert.equal(await qs.insertInvoice(invoiceRow(2, ZPUB, 1, "addr-z1")), true);
  assert.equal(await qs.insertInvoice(invoiceRow(3, ZPUB, 1, "addr-z1b")), false, "index taken");
  assert.equal(await qs.nextAddressIndex(ZPUB), 2);
  assert.equal(await qs.nextAddressIndex(XPUB), 0);
  assert.equal(await qs.insertInvoice(invoiceRow(4, XPUB, 0, "addr-x0")), true);
  assert.equal(await qs.insertInvoice(invoiceRow(5, XPUB, 1, "addr-z0")), false, "address taken");
  assert.equal(await qs.nextAddressIndex(XPUB), 1);
  assert.equal((await qs.getInvoice(invoiceRow(4, "", 0, "").id))!.xpub, XPUB);
}

/** A fresh database on the test server. */
async function freshDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import("pg");
  const name = "subspace_fees_" + crypto.randomUUID().replaceAll("-", "");
  const run = async (q: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = "/" + name;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const txid = (n: number) => n.toString(16).padStart(64, "0");

Deno.test("Esplora client: tip, confirmations, mempool, paging and errors over HTTP", async () => {
  const fake = fakeEsplora();
  try {
    const esplora = new EsploraClient(fake.url + "/");
    assert.equal(await esplora.tipHeight(), 100);
    const addr = "bc1qtest";
    fake.state.txs.push({ txid: txid(1), to: addr, value: 1000, height: 100 }); // 1 conf
    fake.state.txs.push({ txid: txid(2), to: addr, value: 2000, height: 98 }); // 3 confs
    fake.state.txs.push({ txid: txid(3), to: addr, value: 4000 }); // mempool
    fake.state.txs.push({ txid: txid(4), to: "bc1qother", value: 8000, height: 90 });
    assert.deepEqual(await esplora.received(addr, 0), {
      confirmedSats: 7000,
      pendingSats: 0,
      txids: [txid(3), txid(1), txid(2)],
    });
    assert.equal((await esplora.received(addr, 1)).confirmedSats, 3000);
    assert.equal((await esplora.received(addr, 3)).confirmedSats, 2000);
    assert.equal((await esplora.received(addr, 3)).pendingSats, 5000);
    // More than one page of confirmed history.
    for (let i = 0; i < 60; i++) {
      fake.state.txs.push({ txid: txid(100 + i), to: "bc1qbusy", value: 1, height: 10 + i });
    }
    const busy = await esplora.received("bc1qbusy", 1);
    assert.equal(busy.confirmedSats, 60);
    assert.ok(fake.state.requests.some((p) => p.includes("/txs/chain/")));
    fake.state.failing = true;
    await assert.rejects(() => esplora.tipHeight(), EsploraError);
    assert.throws(() => new EsploraClient("ftp://x"), RangeError);
  } finally {
    await fake.close();
  }
});

/** The quota feature's side of crediting, over its store (what ACCOUNT_CREDIT does). */
function accountsOf(qs: QuotaStore): AccountCredit {
  return {
    exists: async (hash) => (await qs.getAccount(hash)) !== undefined,
    credit: (hash, tokens, reference) => qs.creditOnce(hash, tokens, reference, 1),
  };
}

/** Opens the quota and fees databases the way the features do. */
async function openBoth(store: Store, dir: string, legacyQuotaFile?: string) {
  const quotaDb = await store.openFeatureDatabase({
    dataDir: dir,
    name: "quota",
    migrations: QUOTA_MIGRATIONS,
    writerThread: true,
  });
  const feesDb = await store.openFeatureDatabase({
    dataDir: dir,
    name: "fees",
    migrations: feesMigrations(legacyQuotaFile),
  });
  return {
    qs: new QuotaStore(quotaDb.db, quotaDb.writer),
    fs: new FeesStore(feesDb.db),
    close: async () => {
      await feesDb.close();
      await quotaDb.close();
    },
  };
}

async function withStore(fn: (qs: QuotaStore, fs: FeesStore) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "subspace-fees-" });
  const store = await openStore({ dataDir: dir });
  const dbs = await openBoth(store, dir, join(dir, "quota.db"));
  try {
    await fn(dbs.qs, dbs.fs);
  } finally {
    await dbs.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("invoices: fresh derived addresses, BIP21, paid once with enough confirmations", async () => {
  const fake = fakeEsplora();
  await withStore(async (qs, fs) => {
    const clock = { now: 1_800_000_000_000 };
    const account = parseAccountNumber(newAccountNumber());
    const hash = accountHash(account);
    await qs.createAccount(hash, clock.now, "signup");
    const paid: string[] = [];
    const svc = new InvoiceService({
      store: fs,
      accounts: accountsOf(qs),
      deriver: parseXpub(ZPUB),
      esplora: new EsploraClient(fake.url),
      confirmations: 2,
      invoiceTtlSeconds: 3600,
      pricing: () => ({ tokensPerBundle: 100, bundlePriceSats: 5000 }),
      now: () => clock.now,
      onPaid: (inv) => paid.push(inv.id),
    });
    assert.equal(svc.enabled, true);
    const a = await svc.create(hash, 2);
    const b = await svc.create(hash, 1);
    assert.equal(a.address, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    assert.equal(b.address, "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g");
    assert.equal(a.amountSats, 10000);
    assert.equal(a.tokens, 200);
    const json = svc.toJson(a);
    assert.match(
      json.uri,
      /^bitcoin:bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu\?amount=0\.0001&label=Subspace%20tokens&message=/,
    );

    // Underpaid, then paid in the mempool, then confirmed once: not yet.
    fake.state.txs.push({ txid: txid(1), to: a.address, value: 4000, height: 100 });
    fake.state.txs.push({ txid: txid(2), to: a.address, value: 6000 });
    assert.deepEqual(await svc.pollOnce(), { checked: 2, paid: 0 });
    assert.equal((await svc.get(a.id))!.receivedSats, 10000);
    fake.state.txs[1]!.height = 101;
    fake.state.tip = 101;
    assert.deepEqual(await svc.pollOnce(), { checked: 2, paid: 0 });
    fake.state.tip = 102;
    assert.deepEqual(await svc.pollOnce(), { checked: 2, paid: 1 });
    assert.equal((await svc.get(a.id))!.status, "paid");
    assert.equal((await qs.getAccount(hash))!.credit, 200);
    // Credited once only.
    assert.deepEqual(await svc.pollOnce(), { checked: 1, paid: 0 });
    assert.equal((await qs.getAccount(hash))!.credit, 200);
    assert.deepEqual(paid, [a.id]);

    assert.equal(svc.health().lastError, null);
    assert.equal(svc.health().tipHeight, 102);

    // A backend failure leaves the invoice pending (the poll stops at the tip, and health says
    // why); past the grace period it expires.
    fake.state.failing = true;
    assert.deepEqual(await svc.pollOnce(), { checked: 0, paid: 0 });
    const h = svc.health();
    assert.match(h.lastError ?? "", /HTTP 503/);
    assert.ok(h.lastErrorAt! >= h.lastSuccessAt!);
    clock.now += 3600_000 + 86400_000;
    await svc.pollOnce();
    assert.equal((await svc.get(b.id))!.status, "expired");
  });
  await fake.close();
});

Deno.test("invoices: a new xpub applies to the next invoice, at that key's index 0", async () => {
  const fake = fakeEsplora();
  await withStore(async (qs, fs) => {
    const hash = accountHash(parseAccountNumber(newAccountNumber()));
    await qs.createAccount(hash, 1, "signup");
    const svc = new InvoiceService({
      store: fs,
      accounts: accountsOf(qs),
      deriver: parseXpub(ZPUB),
      esplora: undefined,
      confirmations: 1,
      invoiceTtlSeconds: 3600,
      pricing: () => ({ tokensPerBundle: 10, bundlePriceSats: 1000 }),
    });
    const a = await svc.create(hash, 1);
    assert.equal(a.address, parseXpub(ZPUB).address(0));
    assert.deepEqual(await svc.pollOnce(), { checked: 0, paid: 0 }, "no backend: nothing asked");
    svc.configure({
      deriver: parseXpub(XPUB),
      esplora: new EsploraClient(fake.url),
      confirmations: 0,
    });
    const b = await svc.create(hash, 1);
    assert.equal(b.address, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA");
    assert.equal(b.addressIndex, 0);
    assert.equal(b.xpub, XPUB);
    assert.equal(svc.toJson(b).confirmations_required, 0);
    // The old key's invoice is still watched, through the new backend.
    fake.state.txs.push({ txid: txid(7), to: a.address, value: 1000 });
    assert.deepEqual(await svc.pollOnce(), { checked: 2, paid: 1 });
    assert.equal((await svc.get(a.id))!.status, "paid");
    svc.configure({ deriver: parseXpub(ZPUB), esplora: undefined, confirmations: 1 });
    assert.equal((await svc.create(hash, 1)).address, parseXpub(ZPUB).address(1));
  });
  await fake.close();
});

Deno.test("fees store: address indices per key on SQLite", async () => {
  await withStore((_qs, fs) => checkIndicesPerKey(fs));
});

Deno.test("older invoices in quota.db are copied to the fees database once; the key in force adopts them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "subspace-fees-migrate-" });
  try {
    // A quota database as the first release made it, with one invoice.
    const old = new Kysely<unknown>({ dialect: openSqlite(join(dir, "quota.db")).dialect });
    const migrator = new Migrator({
      db: old,
      provider: {
        getMigrations: () => Promise.resolve({ "0001_quota": quotaMigration("sqlite") }),
      },
      migrationTableName: "quota_migration",
      migrationLockTableName: "quota_migration_lock",
    });
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    // deno-lint-ignore no-explicit-any
    await (old as Kysely<any>).insertInto("quota_invoices").values({
      id: "00".repeat(16),
      account_hash: new Uint8Array(32),
      address: parseXpub(ZPUB).address(0),
      address_index: 0,
      amount_sats: 1000,
      tokens: 10,
      created_at: 1,
      expires_at: 2,
      status: "paid",
      received_sats: 1000,
      paid_at: 2,
    }).execute();
    await old.destroy();

    // This release: the quota database migrates on under its old names (0002, 0003), and the
    // fees database copies the invoice, made before per-key indices, once.
    const store = await openStore({ dataDir: dir });
    for (let run = 0; run < 2; run++) {
      const dbs = await openBoth(store, dir, join(dir, "quota.db"));
      try {
        const fs = dbs.fs;
        const inv = (await fs.getInvoice("00".repeat(16)))!;
        assert.equal(inv.status, "paid");
        if (run === 0) {
          assert.equal(inv.xpub, "");
          assert.equal(await fs.nextAddressIndex(ZPUB), 0);
          assert.equal(await fs.adoptLegacyInvoices(ZPUB), 1);
          assert.equal(await fs.nextAddressIndex(ZPUB), 1, "index 0 stays used");
          assert.equal(await fs.adoptLegacyInvoices(XPUB), 0, "adopted once");
          assert.equal(await fs.insertInvoice(invoiceRow(9, ZPUB, 0, "addr-new")), false);
          assert.equal(await fs.insertInvoice(invoiceRow(9, XPUB, 0, "addr-new")), true);
        } else {
          assert.equal(inv.xpub, ZPUB, "the copy ran once: the adoption was kept");
          assert.equal((await fs.listInvoices(10)).length, 2);
        }
        assert.deepEqual(await fs.uncreditedInvoices(), [], "a copied paid invoice was credited");
      } finally {
        await dbs.close();
      }
    }
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a paid invoice whose credit failed is credited at the next poll, once", async () => {
  const fake = fakeEsplora();
  await withStore(async (qs, fs) => {
    const hash = accountHash(parseAccountNumber(newAccountNumber()));
    await qs.createAccount(hash, 1, "signup");
    const real = accountsOf(qs);
    let down = true;
    const errors: string[] = [];
    const svc = new InvoiceService({
      store: fs,
      accounts: {
        exists: real.exists,
        credit: (h, n, ref) =>
          down ? Promise.reject(new Error("quota db busy")) : real.credit(h, n, ref),
      },
      deriver: parseXpub(ZPUB),
      esplora: new EsploraClient(fake.url),
      confirmations: 0,
      invoiceTtlSeconds: 3600,
      pricing: () => ({ tokensPerBundle: 10, bundlePriceSats: 1000 }),
      onError: (err) => errors.push((err as Error).message),
    });
    const inv = await svc.create(hash, 1);
    fake.state.txs.push({ txid: txid(1), to: inv.address, value: 1000 });
    assert.deepEqual(await svc.pollOnce(), { checked: 1, paid: 1 });
    assert.equal((await svc.get(inv.id))!.status, "paid");
    assert.equal((await qs.getAccount(hash))!.credit, 0, "the credit failed");
    assert.deepEqual(errors, ["quota db busy"]);
    assert.equal((await fs.uncreditedInvoices()).length, 1);
    down = false;
    assert.deepEqual(await svc.pollOnce(), { checked: 0, paid: 0 });
    assert.equal((await qs.getAccount(hash))!.credit, 10);
    assert.deepEqual(await fs.uncreditedInvoices(), []);
    // Crediting the same invoice again (a crash before it was recorded) changes nothing.
    assert.equal(await real.credit(hash, 10, `invoice:${inv.id}`), true);
    await svc.pollOnce();
    assert.equal((await qs.getAccount(hash))!.credit, 10);
  });
  await fake.close();
});

Deno.test("invoices are disabled without an xpub or a price", async () => {
  await withStore(async (qs, fs) => {
    const svc = new InvoiceService({
      store: fs,
      accounts: accountsOf(qs),
      deriver: undefined,
      esplora: undefined,
      confirmations: 1,
      invoiceTtlSeconds: 60,
      pricing: () => ({ tokensPerBundle: 1, bundlePriceSats: 0 }),
    });
    assert.equal(svc.enabled, false);
    await assert.rejects(() => svc.create(new Uint8Array(32), 1), /does not sell/);
  });
});

Deno.test({
  name: "quota and fees tables on PostgreSQL: CAS reservation, spent uniqueness, credit once, copy",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase(PG_URL!);
    const store = await openStore({ url: db.url, dataDir: "/nonexistent" });
    try {
      // An older release's invoice in quota_invoices, copied by the fees migration.
      const quotaDb = await store.openFeatureDatabase({
        dataDir: "/nonexistent",
        name: "quota",
        migrations: QUOTA_MIGRATIONS,
      });
      const qs = new QuotaStore(quotaDb.db);
      // deno-lint-ignore no-explicit-any
      await (quotaDb.db as Kysely<any>).insertInto("quota_invoices").values({
        id: "ee".repeat(16),
        account_hash: new Uint8Array(32),
        address: "addr-legacy",
        xpub: "legacy-key",
        address_index: 7,
        amount_sats: 1000,
        tokens: 10,
        created_at: 1,
        expires_at: 2,
        status: "paid",
        received_sats: 1000,
        paid_at: 2,
      }).execute();
      const feesDb = await store.openFeatureDatabase({
        dataDir: "/nonexistent",
        name: "fees",
        migrations: feesMigrations(undefined),
      });
      const fs = new FeesStore(feesDb.db);
      assert.equal((await fs.getInvoice("ee".repeat(16)))?.address, "addr-legacy");
      assert.equal(await fs.nextAddressIndex("legacy-key"), 8);
      assert.deepEqual(await fs.uncreditedInvoices(), []);
      const hash = accountHash(parseAccountNumber(newAccountNumber()));
      assert.equal(await qs.createAccount(hash, 1, "admin"), true);
      assert.equal(await qs.createAccount(hash, 1, "admin"), false);
      await qs.credit(hash, 5);
      const policy = { freeTokens: 3, periodMs: 60_000 };
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => qs.reserve(hash, 1, 120_000, policy)),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 8);
      const nonce = new Uint8Array(32).fill(9);
      const first = await store.insertSpent([{ nonce, expiresAt: 10 }]);
      const second = await store.insertSpent([{ nonce, expiresAt: 10 }]);
      assert.equal(first.size, 1);
      assert.equal(second.size, 0);
      assert.equal(await store.deleteExpiredSpent(10), 1);
      await checkIndicesPerKey(fs);
      // A credit by reference applies once, however often it is retried.
      const credit = accountsOf(qs).credit;
      const before = (await qs.getAccount(hash))!.credit;
      const retries = await Promise.all(
        Array.from({ length: 5 }, () => credit(hash, 4, "invoice:pg")),
      );
      assert.deepEqual(retries, [true, true, true, true, true]);
      assert.equal((await qs.getAccount(hash))!.credit, before + 4);
      await feesDb.close();
      await quotaDb.close();
    } finally {
      await store.close();
      await db.drop();
    }
  },
});
