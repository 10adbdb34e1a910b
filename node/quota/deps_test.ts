import assert from "node:assert/strict";

Deno.test("quota never imports fees (the dependency is one-way: fees uses quota's services)", async () => {
  const here = new URL(".", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("mod.ts", here).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const local = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith("file:"));
  assert.ok(local.some((s) => s.endsWith("/node/quota/quota_feature.ts")), "graph was read");
  const fees = new URL("../fees", here).href + "/";
  assert.deepEqual(local.filter((s) => s.startsWith(fees)), []);
});
