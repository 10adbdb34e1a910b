/**
 * Test helpers for the store: fresh PostgreSQL databases on the test server
 * (`SUBSPACE_TEST_PG_URL`, set by `.ci/run`). Production code never imports this file.
 *
 * @module
 */
import pg from "pg";

/** The test server's URL; without it PostgreSQL tests are skipped. */
export const PG_URL: string | undefined = Deno.env.get("SUBSPACE_TEST_PG_URL");

/** Creates a fresh database on the test server and returns its URL and a dropper. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = "subspace_test_" + crypto.randomUUID().replaceAll("-", "");
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = "/" + name;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
