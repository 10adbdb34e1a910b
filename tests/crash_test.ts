import assert from "node:assert/strict";
import { startNode } from "./_node.ts";
import { ackingLoad } from "./_load.ts";

/**
 * Every message the node acknowledged survives `kill -9` at a random moment under load.
 */
Deno.test("acknowledged messages survive kill -9 under concurrent load", async () => {
  const args = ["--rate-limit", "100000", "--rate-burst", "100000"];
  const node = await startNode({ args });
  const load = ackingLoad(node.url, 16);
  const { acked } = load;
  await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
  await node.kill();
  await load.stop();
  assert.ok(
    acked.size > 50,
    `expected load before the kill, got ${acked.size} acks (${load.refused()} refused)`,
  );

  const again = await startNode({ dataDir: node.dataDir, args });
  try {
    let missing = 0;
    const ids = [...acked.keys()];
    for (let i = 0; i < ids.length; i += 32) {
      await Promise.all(
        ids.slice(i, i + 32).map(async (id) => {
          const res = await fetch(`${again.url}/v1/messages/${id}`);
          if (res.status !== 200) {
            assert.equal(res.status, 404, `unexpected status ${res.status}`);
            missing++;
            await res.body?.cancel();
            return;
          }
          const m = await res.json();
          assert.equal(m.tag, acked.get(id)!.tag);
          assert.equal(m.payload, acked.get(id)!.payload);
        }),
      );
    }
    assert.equal(missing, 0, `${missing} of ${acked.size} acknowledged messages were lost`);
  } finally {
    await again.stop();
    await Deno.remove(node.dataDir, { recursive: true });
  }
});
