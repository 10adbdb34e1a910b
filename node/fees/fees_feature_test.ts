import assert from "node:assert/strict";
import { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { FieldError, PRICING_CONSOLE } from "../console/mod.ts";
import { createLogger } from "../log.ts";
import { startNode } from "../mod.ts";
import {
  accountHash,
  generateIssuerKey,
  parseAccountNumber,
  QUOTA_MIGRATIONS,
  quotaFeature,
} from "../quota/mod.ts";
import { adminAccount } from "../quota/_testing.ts";
import { openSqlite } from "../store/mod.ts";
import { postJson, testNode } from "../testing.ts";
import { feesFeature } from "./fees_feature.ts";
import { freshDatabase } from "../store/testing.ts";
import { parseXpub } from "./xpub.ts";

const KEY = await generateIssuerKey();
const ADMIN = "fees-admin-token";
const BASE = "http://node.test";
const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const XPUB =
  "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";
const quota = () => quotaFeature({ generateKey: () => Promise.resolve(KEY) });
const quiet = () => createLogger({ component: "node", level: "error", sink: () => {} });

function put(body: unknown): Request {
  return new Request(BASE + "/admin/api/pricing", {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("fees feature: pricing shows both features' values; an update applies whole or not at all", async () => {
  const n = await testNode({
    args: ["--admin-token", ADMIN, "--free-tokens", "3", "--max-ttl", "7d"],
    features: [quota(), feesFeature()],
  });
  try {
    const f = (r: Request) => n.fetch(r);
    const pricing = await (await f(new Request(BASE + "/v1/pricing"))).json();
    assert.equal(pricing.free_tokens, 3);
    assert.equal(pricing.max_ttl_seconds, 7 * 86400);
    assert.equal(pricing.fees_enabled, false);
    assert.equal(pricing.currency, "BTC");

    const noAuth = await f(new Request(BASE + "/admin/api/pricing"));
    assert.equal(noAuth.status, 401, "the core's guard protects /admin/api/pricing");
    await noAuth.body?.cancel();

    const ok = await f(put({ free_tokens: 7, max_ttl_seconds: 3600, bundle_price_sats: 500 }));
    assert.equal(ok.status, 200);
    const json = await ok.json();
    assert.equal(json.free_tokens, 7);
    assert.equal(json.max_ttl_seconds, 3600);
    assert.equal(json.bundle_price_sats, 500);
    assert.equal(n.core.limits.current.maxTtlSeconds, 3600, "through the runtime limits");
    assert.equal(n.core.config.maxTtl, 7 * 86400, "the configuration is never written");
    const info = await (await f(new Request(BASE + "/v1/info"))).json();
    assert.equal(info.limits.max_ttl_seconds, 3600);
    assert.equal(info.tokens.free_tokens, 7, "one source of truth: the quota feature's");

    for (
      const [body, field] of [
        [{ free_tokens: 9, bundle_price_sats: -1 }, "body"],
        [{ free_tokens: -1, bundle_price_sats: 9 }, "body"],
        [{ free_tokens: 9, esplora_url: "ftp://x" }, "esplora_url"],
        [{ free_tokens: 9, no_such_field: 1 }, "body"],
      ] as const
    ) {
      const bad = await f(put(body));
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal((await bad.json()).field, field);
    }
    const after = await (await f(new Request(BASE + "/v1/pricing"))).json();
    assert.equal(after.free_tokens, 7, "refused updates change nothing");
    assert.equal(after.bundle_price_sats, 500);
  } finally {
    await n.close();
  }
});

Deno.test("fees feature: invoices need an account; fees on with an xpub and a price", async () => {
  const n = await testNode({
    args: ["--admin-token", ADMIN, "--fee-xpub", ZPUB, "--bundle-price-sats", "1000"],
    features: [quota(), feesFeature()],
  });
  try {
    const f = (r: Request) => n.fetch(r);
    const account = await adminAccount(f, BASE, ADMIN);
    const anon = await f(postJson(BASE, "/v1/invoices", { bundles: 1 }));
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const unknown = await f(
      postJson(BASE, "/v1/invoices", { bundles: 1 }, {
        authorization: `Bearer ${"ab".repeat(16)}`,
      }),
    );
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const made = await f(
      postJson(BASE, "/v1/invoices", { bundles: 2 }, { authorization: `Bearer ${account}` }),
    );
    assert.equal(made.status, 201);
    const inv = await made.json();
    assert.equal(inv.address, parseXpub(ZPUB).address(0));
    assert.equal(inv.amount_sats, 2000);
    const got = await (await f(new Request(BASE + `/v1/invoices/${inv.id}`))).json();
    assert.equal(got.status, "pending");
    const bad = await f(new Request(BASE + "/v1/invoices/xyz"));
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await n.close();
  }
});

Deno.test("fees feature: refuses to start without the quota feature", async () => {
  await assert.rejects(
    () => testNode({ args: ["--quota", "open"], features: [feesFeature()] }),
    /needs the quota feature/,
  );
});

Deno.test("fees feature: invoices and settings in an older quota.db are copied once, never lost", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-fees-legacy-" });
  try {
    // The quota database as releases before the fees feature made it.
    const old = new Kysely<unknown>({ dialect: openSqlite(join(dataDir, "quota.db")).dialect });
    const migrator = new Migrator({
      db: old,
      provider: {
        getMigrations: () =>
          Promise.resolve({
            "0001_quota": QUOTA_MIGRATIONS["0001_quota"]!("sqlite"),
            "0002_invoice_xpub": QUOTA_MIGRATIONS["0002_invoice_xpub"]!("sqlite"),
          }),
      },
      migrationTableName: "quota_migration",
      migrationLockTableName: "quota_migration_lock",
    });
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const hash = accountHash(parseAccountNumber("cd".repeat(16)));
    // deno-lint-ignore no-explicit-any
    const db = old as Kysely<any>;
    await db.insertInto("quota_accounts").values({
      account_hash: hash,
      created_at: 1,
      disabled: 0,
      credit: 100,
      period_start: 0,
      period_used: 0,
      issued_total: 0,
      origin: "signup",
    }).execute();
    const invoice = (i: number, status: string) => ({
      id: i.toString(16).padStart(32, "0"),
      account_hash: hash,
      address: parseXpub(ZPUB).address(i),
      xpub: ZPUB,
      address_index: i,
      amount_sats: 1000,
      tokens: 100,
      created_at: 1000 + i,
      expires_at: 4_000_000_000_000,
      status,
      received_sats: status === "paid" ? 1000 : 0,
      paid_at: status === "paid" ? 2000 : null,
    });
    await db.insertInto("quota_invoices").values([invoice(0, "paid"), invoice(1, "pending")])
      .execute();
    await db.insertInto("quota_settings").values([
      {
        name: "pricing",
        value: JSON.stringify({
          tokens_per_bundle: 100,
          bundle_price_sats: 1000,
          free_tokens: 4,
          quota_period_seconds: 3600,
          max_ttl_seconds: 7200,
          max_payload_bytes: 65536,
        }),
      },
      {
        name: "payment",
        value: JSON.stringify({ xpub: ZPUB, esplora_url: "", confirmations: 2 }),
      },
    ]).execute();
    await old.destroy();

    const start = () =>
      startNode(loadConfig({ args: ["--data", dataDir, "--port", "0"], env: {} }), {
        listen: false,
        log: quiet(),
        features: [quota(), feesFeature()],
      });
    for (let run = 0; run < 2; run++) {
      const n = await start();
      try {
        const f = (r: Request) => n.fetch(r);
        const paid = await (await f(new Request(BASE + `/v1/invoices/${"0".repeat(32)}`))).json();
        assert.equal(paid.status, "paid");
        const pending = await (await f(new Request(BASE + `/v1/invoices/${"0".repeat(31)}1`)))
          .json();
        assert.equal(pending.status, "pending");
        const pricing = await (await f(new Request(BASE + "/v1/pricing"))).json();
        assert.equal(pricing.free_tokens, 4, "the quota feature reads its old values");
        assert.equal(pricing.quota_period_seconds, 3600);
        assert.equal(pricing.max_ttl_seconds, 7200, "the fees feature reads its old values");
        assert.equal(pricing.confirmations, 2);
        assert.equal(pricing.fees_enabled, true);
        assert.equal(n.core.limits.current.maxTtlSeconds, 7200);
      } finally {
        await n.close();
      }
    }
    // Nothing deleted from the old file; the paid invoice arrived as credited (no second credit).
    const check = new Kysely<unknown>({ dialect: openSqlite(join(dataDir, "quota.db")).dialect });
    try {
      // deno-lint-ignore no-explicit-any
      const c = check as Kysely<any>;
      const rows = await c.selectFrom("quota_invoices").selectAll().execute();
      assert.equal(rows.length, 2);
      const acc = await c.selectFrom("quota_accounts").select("credit").executeTakeFirstOrThrow();
      assert.equal(Number(acc.credit), 100);
    } finally {
      await check.destroy();
    }
    const fees = new Kysely<unknown>({ dialect: openSqlite(join(dataDir, "fees.db")).dialect });
    try {
      // deno-lint-ignore no-explicit-any
      const rows = await (fees as Kysely<any>).selectFrom("fees_invoices").selectAll()
        .orderBy("id").execute();
      assert.deepEqual(rows.map((r) => [r.status, Number(r.credited)]), [
        ["paid", 1],
        ["pending", 0],
      ]);
    } finally {
      await fees.destroy();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("fees feature: the Pricing page's source edits all owners' values; a new xpub applies next", async () => {
  const n = await testNode({
    args: [
      "--admin-token",
      ADMIN,
      "--fee-xpub",
      ZPUB,
      "--bundle-price-sats",
      "1000",
      "--free-tokens",
      "3",
    ],
    features: [quota(), feesFeature()],
  });
  try {
    const f = (r: Request) => n.fetch(r);
    const source = n.core.service(PRICING_CONSOLE)!;
    const view = await source.get();
    assert.equal(view.freeTokensPerPeriod, 3);
    assert.equal(view.xpub, ZPUB);
    await source.update({ freeTokensPerPeriod: 9, bundlePriceSats: 7, maxPayloadBytes: 1000 });
    const pricing = await (await f(new Request(BASE + "/v1/pricing"))).json();
    assert.equal(pricing.free_tokens, 9);
    assert.equal(pricing.bundle_price_sats, 7);
    assert.equal(n.core.limits.current.maxPayloadBytes, 1000);
    await assert.rejects(
      async () => await source.update({ xpub: "zpub-nonsense", bundlePriceSats: 8 }),
      (err: unknown) => err instanceof FieldError && err.field === "xpub",
    );
    assert.equal((await source.get()).bundlePriceSats, 7, "nothing applied");
    const status = (await source.status?.())!;
    assert.equal(status.feesEnabled, true);
    assert.equal(status.nextAddress, parseXpub(ZPUB).address(0));

    const account = await adminAccount(f, BASE, ADMIN);
    const buy = async () =>
      await (await f(
        postJson(BASE, "/v1/invoices", { bundles: 1 }, { authorization: `Bearer ${account}` }),
      )).json();
    const first = await buy();
    assert.equal(first.address, parseXpub(ZPUB).address(0));
    await source.update({ xpub: XPUB });
    const second = await buy();
    assert.equal(second.address, parseXpub(XPUB).address(0), "the new key starts at index 0");
    assert.deepEqual(await source.invoiceCounts?.(), { pending: 2 });
    const listed = await source.invoices({ limit: 10 });
    assert.deepEqual(listed.map((i) => i.addressIndex), [0, 0]);
    assert.equal(listed.find((i) => i.id === first.id)?.xpub, "zpub6rFR7y…GutZYs");
  } finally {
    await n.close();
  }
});

Deno.test({
  name: "fees feature: processes sharing a PostgreSQL database follow the pricing saved at another",
  ignore: Deno.env.get("SUBSPACE_TEST_PG_URL") === undefined,
  async fn() {
    const db = await freshDatabase();
    const args = ["--admin-token", ADMIN, "--store", db.url];
    const a = await testNode({ args, features: [quota(), feesFeature({ reloadMs: 100 })] });
    const b = await testNode({ args, features: [quota(), feesFeature({ reloadMs: 100 })] });
    try {
      const ok = await a.fetch(put({ bundle_price_sats: 777, max_ttl_seconds: 1800 }));
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
      const deadline = Date.now() + 10_000;
      let seen;
      while (Date.now() < deadline) {
        seen = await (await b.fetch(new Request(BASE + "/v1/pricing"))).json();
        if (seen.max_ttl_seconds === 1800) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen.max_ttl_seconds, 1800);
      assert.equal(b.core.limits.current.maxTtlSeconds, 1800);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  },
});
