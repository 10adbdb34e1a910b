/**
 * The `dht_notices` table: every verified notice this node knows (its own and its peers'), kept
 * with the origin's signature so it can be re-served in catch-up answers and verified again by
 * the asker. Rows expire with their message.
 *
 * @module
 */
import type { Kysely } from "kysely";
import type { DialectMigration } from "../store/mod.ts";

/** Creates `dht_notices`. */
export const dhtNoticesMigration: DialectMigration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("dht_notices")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("origin", "text", (c) => c.notNull())
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("notice", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("dht_notices_received").on("dht_notices")
      .columns(["received_at", "key"]).execute();
    await db.schema.createIndex("dht_notices_id").on("dht_notices").column("id").execute();
    await db.schema.createIndex("dht_notices_expires").on("dht_notices").column("expires_at")
      .execute();
  },
});
