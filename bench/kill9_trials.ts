/**
 * Durability trials: many clients POST to a node (`_node_core.ts`, SQLite or `--store`), the
 * node is killed with SIGKILL at a random moment, restarted on the same data, and every
 * acknowledged message must be there with its payload. Prints one line per trial and exits
 * non-zero if any acknowledged message was lost.
 *
 * Run: `deno run -A bench/kill9_trials.ts [trials=5] [clients=64] [extra node flags...]`.
 *
 * @module
 */
import { BENCH_ARGS } from "./_util.ts";
import { ackingLoad } from "../tests/_load.ts";

const trials = Number(Deno.args[0] ?? 5);
const clients = Number(Deno.args[1] ?? 64);
const extra = Deno.args.slice(2);
const ENTRY = new URL("./_node_core.ts", import.meta.url).pathname;

async function start(dataDir: string): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ENTRY,
      "--data",
      dataDir,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--quota",
      "open",
      "--log-level",
      "error",
      ...BENCH_ARGS,
      ...extra,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the node exited before listening");
    buf += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { url: `http://127.0.0.1:${JSON.parse(buf.split("\n")[0]!).port}`, child };
}

let lostTotal = 0;
for (let trial = 1; trial <= trials; trial++) {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-kill9-" });
  const node = await start(dataDir);
  const load = ackingLoad(node.url, clients);
  const { acked } = load;
  await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
  node.child.kill("SIGKILL");
  await node.child.status;
  await load.stop();

  const again = await start(dataDir);
  let lost = 0;
  const ids = [...acked.keys()];
  for (let i = 0; i < ids.length; i += 64) {
    await Promise.all(
      ids.slice(i, i + 64).map(async (id) => {
        const res = await fetch(`${again.url}/v1/messages/${id}`);
        if (res.status !== 200 || (await res.json()).payload !== acked.get(id)!.payload) lost++;
        else return;
        await res.body?.cancel().catch(() => {});
      }),
    );
  }
  again.child.kill("SIGTERM");
  await again.child.status;
  await Deno.remove(dataDir, { recursive: true });
  lostTotal += lost;
  console.log(`trial ${trial}: ${acked.size} acknowledged, ${lost} lost`);
}
Deno.exit(lostTotal === 0 ? 0 : 1);
