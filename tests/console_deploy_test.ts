/**
 * `deploy/subspace.service` is a valid systemd unit (`systemd-analyze verify`, where the tool
 * exists; the Deno path in `ExecStart` is replaced by this machine's, since verify checks that
 * the binary exists), and it starts the node with the settings docs/operations.md describes.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../node/mod.ts";

const UNIT = new URL("../deploy/subspace.service", import.meta.url);

const hasSystemdAnalyze = (() => {
  try {
    Deno.statSync("/usr/bin/systemd-analyze");
    return true;
  } catch {
    console.warn("SKIP systemd-analyze verify: /usr/bin/systemd-analyze is missing");
    return false;
  }
})();

Deno.test({
  name: "deploy/subspace.service passes systemd-analyze verify",
  ignore: !hasSystemdAnalyze,
  async fn() {
    const text = await Deno.readTextFile(UNIT);
    const dir = await Deno.makeTempDir({ prefix: "subspace-unit-" });
    try {
      const unit = `${dir}/subspace.service`;
      await Deno.writeTextFile(unit, text.replace("/usr/local/bin/deno", Deno.execPath()));
      const out = await new Deno.Command("/usr/bin/systemd-analyze", {
        args: ["verify", unit],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const msg = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, msg);
      assert.equal(msg.trim(), "", "no warnings");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the unit's environment is a valid node configuration", async () => {
  const text = await Deno.readTextFile(UNIT);
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^Environment=(SUBSPACE_\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  assert.ok(Object.keys(env).length >= 3);
  const cfg = loadConfig({ env });
  assert.equal(cfg.data, "/var/lib/subspace");
  assert.equal(cfg.logFormat, "json");
  assert.match(text, /^ExecStart=\S+ run .*--allow-run=prlimit \S+ serve$/m);
  assert.match(text, /^LimitNOFILE=65536$/m);
  assert.match(text, /^RestartPreventExitStatus=2$/m);
});
