import { openStore } from "./store.ts";
import { storeConformance } from "./conformance.ts";

Deno.test("SQLite store conformance", async (t) => {
  await storeConformance(t, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "subspace-sqlite-" });
    const store = await openStore({ dataDir });
    return {
      store,
      async dispose() {
        await store.close();
        await Deno.remove(dataDir, { recursive: true });
      },
    };
  });
});
