/**
 * Ingest benchmark: concurrent clients POST 1 KiB messages over loopback to a real node process
 * (SQLite, fsync on every group commit), then the same load against a bare `Deno.serve`
 * endpoint that does nothing, in the same run. Run: `deno run -A bench/ingest.ts [seconds]`.
 *
 * @module
 */
import { benchNode, f2, wrk } from "./_util.ts";

const seconds = Number(Deno.args[0] ?? 10);
const connections = Number(Deno.args[1] ?? 32);

const baselineCode =
  `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(a.port) },
  async (req) => { await req.arrayBuffer(); return new Response('{"id":"x"}', { status: 201 }); });`;
const baseline = new Deno.Command(Deno.execPath(), {
  args: ["eval", baselineCode],
  stdout: "piped",
}).spawn();
const reader = baseline.stdout.pipeThrough(new TextDecoderStream()).getReader();
const port = Number((await reader.read()).value!.trim());
const base = await wrk(`http://127.0.0.1:${port}`, "post_1k.lua", { connections, seconds });
baseline.kill();
await baseline.status;

const node = await benchNode();
const sub = await wrk(node.url, "post_1k.lua", { connections, seconds });
await node.stop();
await Deno.remove(node.dataDir, { recursive: true });

console.log(`| endpoint | msgs/s | p50 ms | p99 ms | non-2xx |`);
console.log(`| --- | --- | --- | --- | --- |`);
console.log(
  `| bare Deno.serve | ${base.perSecond.toFixed(0)} | ${f2(base.p50Ms)} | ${
    f2(base.p99Ms)
  } | ${base.non2xx} |`,
);
console.log(
  `| Subspace POST /v1/messages (SQLite, durable) | ${sub.perSecond.toFixed(0)} | ${
    f2(sub.p50Ms)
  } | ${f2(sub.p99Ms)} | ${sub.non2xx} |`,
);
console.log(
  `\nratio Subspace / bare: ${
    f2(sub.perSecond / base.perSecond)
  } (${connections} connections, ${seconds} s, wrk 1 thread)`,
);
