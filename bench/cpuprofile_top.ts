/**
 * Summarizes V8 `.cpuprofile` files (as `deno run --cpu-prof` writes them, one per thread):
 * the share of time idle, in garbage collection and in each function's own code, top first.
 *
 * Run: `deno run -R bench/cpuprofile_top.ts <file.cpuprofile>... [--top 15] [--by-file]
 * [--inclusive]` (`--by-file` adds up the functions of each script; `--inclusive` counts each
 * function's time with everything it called).
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = [...Deno.args];
const byFile = args.includes("--by-file");
if (byFile) args.splice(args.indexOf("--by-file"), 1);
const inclusive = args.includes("--inclusive");
if (inclusive) args.splice(args.indexOf("--inclusive"), 1);
let top = 15;
const t = args.indexOf("--top");
if (t >= 0) {
  top = Number(args[t + 1]);
  args.splice(t, 2);
}

for (const file of args) {
  const p: Profile = JSON.parse(await Deno.readTextFile(file));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url === ""
      ? ""
      : ` ${f.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "")}:${f.lineNumber + 1}`;
    return byFile
      ? (f.url === "" ? f.functionName : f.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, ""))
      : `${f.functionName || "(anonymous)"}${where}`;
  };
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const keys = new Set([keyOf(id)]);
    for (let at = parent.get(id); inclusive && at !== undefined; at = parent.get(at)) {
      keys.add(keyOf(at));
    }
    for (const key of keys) self.set(key, (self.get(key) ?? 0) + dt);
  });
  const pct = (us: number) => (100 * us / total).toFixed(1).padStart(5);
  console.log(`\n${file.split("/").pop()}: ${(total / 1e6).toFixed(1)} s sampled`);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows) console.log(`${pct(us)}%  ${name}`);
}
