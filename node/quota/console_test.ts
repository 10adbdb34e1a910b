import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { utcDay } from "./daily.ts";
import { QUOTA_CONSOLE, type QuotaSource } from "../console/mod.ts";
import { createLogger } from "../log.ts";
import { startNode } from "../mod.ts";
import { testNode } from "../testing.ts";
import { tokensFrom } from "./_testing.ts";
import { generateIssuerKey } from "./issuer_keys.ts";
import { quotaFeature } from "./quota_feature.ts";
import { accountHash, parseAccountNumber } from "./tokens.ts";

const KEY = await generateIssuerKey();

Deno.test("quota console source: accounts by number or hash prefix, credit, disable, keys", async () => {
  const n = await testNode({
    features: [quotaFeature({ generateKey: () => Promise.resolve(KEY) })],
  });
  try {
    const source = n.core.service(QUOTA_CONSOLE)!;
    const made = await source.createAccount();
    await source.createAccount();
    const hashHex = accountHash(parseAccountNumber(made.id)).toHex();
    const all = await source.accounts({ search: "", limit: 10, offset: 0 });
    assert.equal(all.total, 2);
    const page = await source.accounts({ search: "", limit: 1, offset: 1 });
    assert.equal(page.accounts.length, 1);
    assert.equal(page.total, 2);
    const byNumber = await source.accounts({ search: made.id, limit: 10, offset: 0 });
    assert.deepEqual(byNumber.accounts.map((a) => a.id), [hashHex]);
    const byPrefix = await source.accounts({ search: hashHex.slice(0, 6), limit: 10, offset: 0 });
    assert.ok(byPrefix.accounts.some((a) => a.id === hashHex));
    assert.deepEqual(await source.accounts({ search: "not hex", limit: 10, offset: 0 }), {
      accounts: [],
      total: 0,
    });
    await source.credit(hashHex, 5);
    await source.setDisabled(made.id, true);
    const after = (await source.accounts({ search: hashHex, limit: 10, offset: 0 })).accounts[0]!;
    assert.equal(after.credit, 5);
    assert.equal(after.disabled, true);
    await assert.rejects(async () => await source.credit("00".repeat(32), 1), RangeError);
    await assert.rejects(async () => await source.credit("nonsense", 1), /Account:/);
    const stats = await source.stats(7);
    assert.equal(stats.spentSetSize, 0);
    assert.equal(stats.keys.filter((k) => k.current).length, 1);
    assert.ok(stats.daily.length <= 7);
  } finally {
    await n.close();
  }
});

Deno.test("quota console source: tokens issued per day are kept across a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-quota-tally-" });
  const start = () =>
    startNode(loadConfig({ args: ["--data", dataDir, "--port", "0"], env: {} }), {
      listen: false,
      log: createLogger({ component: "node", level: "error", sink: () => {} }),
      features: [quotaFeature({ generateKey: () => Promise.resolve(KEY) })],
    });
  const issuedToday = async (source: QuotaSource) =>
    (await source.stats(1)).daily.find((d) => d.day === utcDay(Date.now()))?.issued ?? 0;
  try {
    let n = await start();
    const { id: account } = await n.core.service(QUOTA_CONSOLE)!.createAccount();
    assert.equal((await tokensFrom((r) => n.fetch(r), "http://node.test", account, 3)).length, 3);
    assert.equal(await issuedToday(n.core.service(QUOTA_CONSOLE)!), 3);
    await n.close();
    n = await start();
    try {
      assert.equal(await issuedToday(n.core.service(QUOTA_CONSOLE)!), 3);
    } finally {
      await n.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
