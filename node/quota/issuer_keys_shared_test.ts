import assert from "node:assert/strict";
import { generateIssuerKey, IssuerKeyRing } from "./issuer_keys.ts";
import { QUOTA_MIGRATIONS } from "./migration.ts";
import { QuotaStore } from "./store.ts";
import { openStore } from "../store/mod.ts";
import { freshDatabase, PG_URL } from "../store/testing.ts";

const KEYS = await Promise.all([1, 2, 3, 4].map(() => generateIssuerKey()));

Deno.test({
  name: "issuer keys shared on PostgreSQL: one process rotates, every process signs with its key",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase();
    const stores = await Promise.all([1, 2].map(() => openStore({ url: db.url, dataDir: "/x" })));
    try {
      let now = 1_000_000_000_000;
      let next = 0;
      const generate = () => Promise.resolve(KEYS[next++]!);
      const rings = [];
      for (const s of stores) {
        const fdb = await s.openFeatureDatabase({
          dataDir: "/x",
          name: "quota",
          migrations: QUOTA_MIGRATIONS,
        });
        const store = new QuotaStore(fdb.db);
        rings.push(
          await IssuerKeyRing.open({
            dataDir: undefined,
            rotationSeconds: 100,
            overlapSeconds: 50,
            now: () => now,
            generate,
            storage: { update: (fn) => store.updateSettingExclusive("issuer_keys", fn) },
          }),
        );
      }
      const [a, b] = rings as [IssuerKeyRing, IssuerKeyRing];
      assert.equal(next, 1, "the second process adopts the first one's key");
      assert.equal(b.active().idHex, a.active().idHex);
      const first = a.active().idHex;
      now += 100_000;
      // Both find the key retired at once: one rotates, the other adopts its new key.
      const changed = await Promise.all([a.maintain(), b.maintain()]);
      assert.equal(next, 2, "one new key");
      assert.deepEqual(changed.toSorted(), [false, true]);
      assert.equal(a.active().idHex, b.active().idHex);
      assert.notEqual(a.active().idHex, first);
      assert.ok(b.verifying(Uint8Array.fromHex(first)), "the old key still verifies");
      now += 50_001;
      await Promise.all([a.maintain(), b.maintain()]);
      assert.equal(b.verifying(Uint8Array.fromHex(first)), undefined, "then it expires");
    } finally {
      for (const s of stores) await s.close();
      await db.drop();
    }
  },
});
