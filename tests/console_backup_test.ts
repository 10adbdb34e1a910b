/**
 * `subspace admin backup` while a real node takes writes, then `subspace admin restore` into a
 * new folder and a node started on it: every message acknowledged before the backup began is
 * served, byte for byte. The load is checked to have kept running during the backup, so the
 * test cannot pass on an idle node.
 */
import assert from "node:assert/strict";
import { NODE_DENO_FLAGS, type NodeProcess, startNode } from "./_node.ts";
import { ackingLoad } from "./_load.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...NODE_DENO_FLAGS, MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test({
  name: "admin backup under write load restores to a node serving every acknowledged message",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await startNode();
    const work = await Deno.makeTempDir({ prefix: "subspace-backup-test-" });
    const file = `${work}/node.tar`;
    const restored = `${work}/restored`;
    let second: NodeProcess | undefined;
    const load = ackingLoad(node.url, 4);
    try {
      while (load.acked.size < 200) await new Promise((r) => setTimeout(r, 50));
      const before = new Map(load.acked);
      const backup = await cli(["admin", "backup", "--data", node.dataDir, "--to", file]);
      assert.equal(backup.code, 0, backup.err);
      assert.match(backup.out, /^Backed up .*\bsubspace\.db\b/);
      assert.match(backup.out, /\bnode\.key\b/);
      const during = load.acked.size;
      await load.stop();
      assert.ok(during > before.size, "the node kept acknowledging writes during the backup");
      assert.equal((await Deno.stat(file)).mode! & 0o077, 0, "the backup is private (0600)");
      await node.stop();

      const tar = await new Deno.Command("tar", { args: ["-tf", file], stdout: "piped" })
        .output().catch(() => undefined);
      if (tar?.success) {
        const listed = new TextDecoder().decode(tar.stdout).split("\n");
        assert.ok(listed.includes("subspace.db") && listed.includes("node.key"), "tar reads it");
      }

      const r = await cli(["admin", "restore", "--from", file, "--data", restored]);
      assert.equal(r.code, 0, r.err);
      const again = await cli(["admin", "restore", "--from", file, "--data", restored]);
      assert.notEqual(again.code, 0, "a restore never mixes with another folder's files");
      assert.match(again.err, /is not empty/);

      second = await startNode({ dataDir: restored });
      let served = 0;
      for (const [id, posted] of before) {
        const res: Response = await fetch(`${second.url}/v1/messages/${id}`);
        assert.equal(res.status, 200, `message ${id} acknowledged before the backup`);
        const m = await res.json();
        assert.equal(m.tag, posted.tag);
        assert.equal(m.payload, posted.payload);
        served++;
      }
      assert.equal(served, before.size);
    } finally {
      await load.stop();
      await second?.stop();
      await node.stop();
      await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
