/**
 * Ingest A/B between two source trees (e.g. a worktree of the commit before a change, and the
 * change): rounds alternate which tree goes first, each round starts a fresh node from each tree
 * (SQLite, `--quota open`, limits lifted) and runs the same wrk load (1 KiB POSTs) against it.
 * Prints every run and the medians; on a shared machine only the medians of interleaved rounds
 * mean anything.
 *
 * Run: `deno run -A bench/ab_ingest.ts <treeA> <treeB> [rounds=5] [seconds=10] [connections=32]`.
 * With `AB_PG=1` each run gets a fresh database on `SUBSPACE_TEST_PG_URL` (`--store`) instead.
 *
 * @module
 */
import { BENCH_ARGS, f2, quantile, wrk } from "./_util.ts";
import { NODE_DENO_FLAGS } from "../tests/_node.ts";
import { freshDatabase } from "../node/store/testing.ts";

const [treeA, treeB] = Deno.args;
if (treeA === undefined || treeB === undefined) {
  console.error("usage: ab_ingest.ts <treeA> <treeB> [rounds] [seconds] [connections]");
  Deno.exit(2);
}
const rounds = Number(Deno.args[2] ?? 5);
const seconds = Number(Deno.args[3] ?? 10);
const connections = Number(Deno.args[4] ?? 32);

const pg = Deno.env.get("AB_PG") === "1";

async function runOnce(tree: string): Promise<number> {
  const db = pg ? await freshDatabase() : undefined;
  try {
    return await runOn(tree, db === undefined ? [] : ["--store", db.url]);
  } finally {
    await db?.drop();
  }
}

async function runOn(tree: string, storeArgs: string[]): Promise<number> {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-ab-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [...NODE_DENO_FLAGS, `${tree}/main.ts`, "serve", "--data", dataDir, "--port", "0"]
      .concat(["--quota", "open", ...storeArgs, ...BENCH_ARGS]),
    cwd: tree,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let url = "";
  let buf = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  while (url === "") {
    const { value, done } = await reader.read();
    if (done) throw new Error(`node from ${tree} exited:\n${buf}`);
    buf += value;
    const m = /"msg":"listening","url":"([^"]+)"/.exec(buf);
    if (m) url = m[1]!;
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  const r = await wrk(url, "post_1k.lua", { connections, seconds });
  child.kill("SIGTERM");
  await child.status;
  await drain.catch(() => {});
  await Deno.remove(dataDir, { recursive: true });
  if (r.non2xx > 0 || r.socketErrors > 0) {
    console.warn(`  ${tree}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
  }
  return r.perSecond;
}

const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ["A", "B"] : ["B", "A"];
  for (const which of order) {
    const rate = await runOnce(which === "A" ? treeA : treeB);
    (which === "A" ? a : b).push(rate);
    console.log(`round ${i + 1} ${which}: ${rate.toFixed(0)} msgs/s`);
  }
}
const ma = quantile(a, 0.5);
const mb = quantile(b, 0.5);
console.log(`\n| tree | runs (msgs/s) | median |`);
console.log(`| --- | --- | --- |`);
console.log(`| A ${treeA} | ${a.map((x) => x.toFixed(0)).join(", ")} | ${ma.toFixed(0)} |`);
console.log(`| B ${treeB} | ${b.map((x) => x.toFixed(0)).join(", ")} | ${mb.toFixed(0)} |`);
console.log(
  `\nmedian B / A: ${f2(mb / ma)} (${connections} connections, ${seconds} s, wrk 1 thread)`,
);
