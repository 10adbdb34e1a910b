/**
 * A node whose data folder is a 2 MiB tmpfs: when the disk fills, POSTs get 507 problem+json
 * with Retry-After (never 500), the node logs it once for the whole episode, what was
 * acknowledged stays readable, and writes resume by themselves once space returns.
 *
 * Needs `mount -t tmpfs` (root); skipped, saying why, where mounting is not allowed.
 */
import assert from "node:assert/strict";
import { startNode } from "./_node.ts";

async function tryMount(dir: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success ? undefined : new TextDecoder().decode(out.stderr).trim();
  } catch (err) {
    return (err as Error).message;
  }
}

const mountPoint = await Deno.makeTempDir({ prefix: "subspace-tmpfs-" });
const cannotMount = await tryMount(mountPoint);
if (cannotMount !== undefined) {
  console.warn(`disk_full_test skipped: cannot mount a tmpfs (${cannotMount})`);
  await Deno.remove(mountPoint);
}

const post = (url: string, i: number, bytes: number) => {
  const payload = new Uint8Array(bytes);
  crypto.getRandomValues(payload.subarray(0, 64));
  new DataView(payload.buffer).setUint32(64, i);
  return fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      tag: i.toString(16).padStart(40, "0"),
      payload: payload.toBase64(),
    }),
  });
};

Deno.test({
  name: "disk full: 507 + Retry-After, one log line per episode, writes resume when space returns",
  ignore: cannotMount !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = `${mountPoint}/data`;
    const node = await startNode({ dataDir });
    try {
      // Leave the database about 600 KiB: a filler file takes the rest, and is freed later.
      const filler = `${mountPoint}/filler`;
      const free = 2 * 1024 * 1024 - (await du(mountPoint));
      await Deno.writeFile(filler, new Uint8Array(Math.max(0, free - 600 * 1024)));

      const acked: string[] = [];
      const statuses = new Map<number, number>();
      let fullResponse: Response | undefined;
      for (let i = 0; i < 400 && statuses.get(507) === undefined; i++) {
        const res = await post(node.url, i, 16 * 1024);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) acked.push((await res.json()).id);
        else if (res.status === 507) fullResponse = res;
        else await res.body?.cancel();
      }
      assert.ok(fullResponse, `the disk never filled: ${JSON.stringify([...statuses])}`);
      assert.ok(acked.length > 5, `too few writes before the disk filled: ${acked.length}`);
      assert.equal(fullResponse.headers.get("content-type"), "application/problem+json");
      assert.ok(Number(fullResponse.headers.get("retry-after")) > 0);
      assert.equal((await fullResponse.json()).status, 507);
      // More writes in the same episode: 507 each, no 500, and no more log lines.
      for (let i = 1000; i < 1030; i++) {
        const res = await post(node.url, i, 16 * 1024);
        await res.body?.cancel();
        assert.equal(res.status, 507, `write ${i} during the episode`);
      }
      assert.equal(statuses.get(500), undefined, "no 500 while the disk was full");
      const fullLines = node.logs.filter((l) => l.includes("the disk is full"));
      assert.equal(fullLines.length, 1, fullLines.join("\n"));
      assert.ok(!node.logs.some((l) => l.includes('"msg":"commit failed"')));

      // Acknowledged messages survive.
      for (const id of acked) {
        const res = await fetch(`${node.url}/v1/messages/${id}`);
        assert.equal(res.status, 200, `acknowledged message ${id}`);
        await res.body?.cancel();
      }

      // Space returns: writes resume by themselves.
      await Deno.remove(filler);
      const res = await post(node.url, 5000, 1024);
      assert.equal(res.status, 201, await res.text());
      assert.ok(node.logs.some((l) => l.includes("writes resumed")), node.logs.join("\n"));
    } finally {
      await node.stop();
      await new Deno.Command("umount", { args: [mountPoint] }).output();
      await Deno.remove(mountPoint, { recursive: true }).catch(() => {});
    }
  },
});

async function du(dir: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    const st = await Deno.stat(`${dir}/${e.name}`);
    total += e.isDirectory ? await du(`${dir}/${e.name}`) : st.size;
  }
  return total;
}
