import assert from "node:assert/strict";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { SharedCaptchas } from "./shared_captchas.ts";
import { captchasMigration } from "./migration.ts";
import { HttpError } from "../errors.ts";
import { freshDatabase, PG_URL } from "../store/testing.ts";

async function withCaptchas(
  fn: (
    make: (
      opts: {
        ttlSeconds: number;
        maxOutstanding?: number;
        maxPerAddress?: number;
        now?: () => number;
      },
    ) => SharedCaptchas,
  ) => Promise<void>,
): Promise<void> {
  const db = await freshDatabase();
  const kysely = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }),
  });
  try {
    await captchasMigration().up(kysely);
    await fn((opts) => new SharedCaptchas(kysely, opts));
  } finally {
    await kysely.destroy();
    await db.drop();
  }
}

Deno.test({
  name:
    "shared captchas: one answer, at whichever process; expiry; the bounds of the in-memory store",
  ignore: PG_URL === undefined,
  async fn() {
    await withCaptchas(async (make) => {
      let now = 1_000_000;
      const opts = { ttlSeconds: 10, maxOutstanding: 4, maxPerAddress: 2, now: () => now };
      const [a, b] = [make(opts), make(opts)];
      const c = await a.create("xy7q");
      assert.match(c.svg, /^<svg /);
      const answers = await Promise.all([b.check(c.id, " XY7Q "), a.check(c.id, "xy7q")]);
      assert.deepEqual(answers.toSorted(), [true, "unknown"].toSorted(), "used once, anywhere");
      const d = await b.create("abcd");
      assert.equal(await a.check(d.id, "abce"), "wrong");
      assert.equal(await a.check(d.id, "abcd"), "unknown");
      const e = await a.create("eeee");
      now += 10_000;
      assert.equal(await b.check(e.id, "eeee"), "expired");
      // Per address: the address's own oldest goes.
      const mine = [];
      for (let i = 0; i < 3; i++) {
        mine.push((await a.create("ffff", "192.0.2.7")).id);
        now += 1;
      }
      assert.equal(await b.check(mine[0]!, "ffff"), "unknown");
      assert.equal(await b.check(mine[2]!, "ffff"), true);
      // In all: a full table refuses rather than dropping anyone's.
      for (let i = 0; i < 3; i++) await a.create("gggg", `198.51.100.${i}`);
      await assert.rejects(
        b.create("hhhh"),
        (err: unknown) => err instanceof HttpError && err.status === 503,
      );
    });
  },
});
