/**
 * The npm package (`deno task package`, `client/package/build.ts`): `npm pack` accepts the build;
 * the packed tarball installs into a fresh Node 20 project, its types check there with
 * TypeScript (no `skipLibCheck`), and a Node script sends and receives through a real node with
 * `node:crypto` ECDH; a page on another origin loads the browser build in Chromium and sends and
 * receives through the same node with pure noble (which needs CORS).
 */
import assert from "node:assert/strict";
import { buildPackage, PACKAGE_NAME } from "../client/package/build.ts";
import { startNode } from "./_node.ts";
import { hasChromium, launchChromium } from "./_browser.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const hasNode = (() => {
  try {
    return new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    console.warn("SKIP package tests: node is missing");
    return false;
  }
})();

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { npm_config_update_notifier: "false", NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(r.stdout);
  const err = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")} failed:\n${out}\n${err}`);
  return out;
}

let built: Promise<{ dir: string; tarball: string }> | undefined;
/** Builds and packs once for the tests of this file. */
function packed(): Promise<{ dir: string; tarball: string }> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "subspace-package-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    await buildPackage(`${dir}/npm`);
    const out = await run("npm", ["pack", "--json", "--pack-destination", dir], `${dir}/npm`);
    const [info] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
    const files = info.files.map((f) => f.path).sort();
    for (const f of ["README.md", "browser.js", "node.js", "package.json", "types/mod.d.ts"]) {
      assert.ok(files.includes(f), `${f} missing from the tarball: ${files.join(", ")}`);
    }
    return { dir, tarball: `${dir}/${info.filename}` };
  })();
  return built;
}

const NODE_SCRIPT = `
import {
  addressForKeys, encodeStealthAddress, generateMnemonic, keysFromMnemonic, SubspaceClient,
  textOf, utf8,
} from "${PACKAGE_NAME}";
const server = process.argv[2];
const client = await SubspaceClient.create();
const keys = keysFromMnemonic(generateMnemonic());
const address = addressForKeys(keys, { prefixBits: 8 });
const sent = await client.send(server, encodeStealthAddress(address), {
  type: "text", createdTime: 1700000000, memo: "", body: utf8.encode("hello from node"),
});
const got = [];
for await (const m of client.watch(
  { scanSecret: keys.scanSecret, scanPubkey: keys.scanPubkey, prefix: address.prefix,
    prefixBits: address.prefixBits },
  { servers: [server], follow: false },
)) got.push({ id: m.id, text: textOf(m.payload), created: m.payload.createdTime });
console.log(JSON.stringify({ ecdh: client.ecdhName, sent: sent.id, got }));
`;

const TS_CONSUMER = `
import { SubspaceClient, type InboxMessage, type Payload, decodeStealthAddress } from "${PACKAGE_NAME}";
const p: Payload = { type: "text", createdTime: 0, memo: "", body: new Uint8Array(1) };
export async function f(m: InboxMessage): Promise<string> {
  const c: SubspaceClient = await SubspaceClient.create();
  return c.ecdhName + m.id + p.type + decodeStealthAddress("x").prefixBits;
}
`;

Deno.test({
  name:
    "package: the packed tarball installs in a Node 20 project, type-checks, sends and receives",
  ignore: !hasNode,
  async fn() {
    const { dir, tarball } = await packed();
    const project = `${dir}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      `${project}/package.json`,
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], project);
    await Deno.writeTextFile(`${project}/main.mjs`, NODE_SCRIPT);
    await Deno.writeTextFile(`${project}/consumer.ts`, TS_CONSUMER);
    await Deno.writeTextFile(
      `${project}/tsconfig.json`,
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2023", "DOM", "DOM.Iterable"],
          types: [],
          skipLibCheck: false,
        },
        files: ["consumer.ts"],
      }),
    );
    await run("node", [`${ROOT}node_modules/typescript/bin/tsc`, "-p", "."], project);

    const node = await startNode();
    try {
      const out = await run("node", ["main.mjs", node.url], project);
      const r = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(r.ecdh, "node:crypto");
      assert.deepEqual(r.got, [{ id: r.sent, text: "hello from node", created: 1700000000 }]);
    } finally {
      await node.stop();
      await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "package: a page on another origin loads the browser build and sends and receives (CORS)",
  ignore: !hasNode || !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { dir } = await packed();
    const js = await Deno.readFile(`${dir}/npm/browser.js`);
    assert.doesNotMatch(new TextDecoder().decode(js), /from\s*["']node:/);
    const node = await startNode();
    const closed = await startNode({ args: ["--cors-origins", ""] });
    const ac = new AbortController();
    const page = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        signal: ac.signal,
        onListen: () => {},
      },
      (req) =>
        new URL(req.url).pathname === "/subspace-wallet.js"
          ? new Response(js, { headers: { "content-type": "text/javascript" } })
          : new Response("<!doctype html><title>wallet</title>", {
            headers: { "content-type": "text/html" },
          }),
    );
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(String(e)));
      const origin = `http://localhost:${page.addr.port}`;
      assert.notEqual(new URL(origin).origin, new URL(node.url).origin);
      await tab.goto(`${origin}/`);
      const r = await tab.evaluate(async (server: string) => {
        // deno-lint-ignore no-explicit-any
        const m: any = await import("/subspace-wallet.js");
        const client = await m.SubspaceClient.create();
        const keys = m.keysFromMnemonic(m.generateMnemonic());
        const address = m.addressForKeys(keys, { prefixBits: 8 });
        const sent = await client.send(server, m.encodeStealthAddress(address), {
          type: "text",
          createdTime: 1700000001,
          memo: "",
          body: m.utf8.encode("hello from a page"),
        });
        const got: { id: string; text: string }[] = [];
        for await (
          const msg of client.watch({
            scanSecret: keys.scanSecret,
            scanPubkey: keys.scanPubkey,
            prefix: address.prefix,
            prefixBits: address.prefixBits,
          }, { servers: [server], follow: false })
        ) got.push({ id: msg.id, text: m.textOf(msg.payload) });
        return {
          ecdh: client.ecdhName,
          sent: sent.id,
          got,
          hasDeno: "Deno" in globalThis,
          origin: location.origin,
        };
      }, node.url);
      assert.deepEqual(errors, []);
      assert.equal(r.hasDeno, false);
      assert.equal(r.origin, origin);
      assert.equal(r.ecdh, "noble");
      assert.deepEqual(r.got, [{ id: r.sent, text: "hello from a page" }]);

      // The same page against a node that answers no CORS: the browser blocks the call.
      const blocked = await tab.evaluate(async (server: string) => {
        // deno-lint-ignore no-explicit-any
        const m: any = await import("/subspace-wallet.js");
        const client = new m.SubspaceClient({ retry: { attempts: 1 } });
        try {
          await client.fetchPage(server, { prefix: new Uint8Array(1), prefixBits: 0 });
          return "allowed";
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      }, closed.url);
      assert.match(
        blocked,
        /^NetworkError: cannot reach .* does not allow this page's origin \(CORS/,
      );
    } finally {
      await browser.close();
      ac.abort();
      await page.finished;
      for (const n of [node, closed]) {
        await n.stop();
        await Deno.remove(n.dataDir, { recursive: true }).catch(() => {});
      }
    }
  },
});

Deno.test({
  name: "package: deno task package writes dist/npm with the declared dependencies",
  ignore: !hasNode,
  async fn() {
    const { dir } = await packed();
    const pkg = JSON.parse(await Deno.readTextFile(`${dir}/npm/package.json`));
    assert.equal(pkg.name, PACKAGE_NAME);
    assert.equal(pkg.type, "module");
    assert.equal(pkg.exports["."].node, "./node.js");
    assert.equal(pkg.exports["."].browser, "./browser.js");
    assert.equal(pkg.exports["."].types, "./types/mod.d.ts");
    // Every bare import of node.js is a declared dependency, pinned as in deno.json.
    const nodeJs = await Deno.readTextFile(`${dir}/npm/node.js`);
    const bare = new Set<string>();
    for (const m of nodeJs.matchAll(/\bfrom\s*["']([^"'.][^"']*)["']/g)) {
      const s = m[1]!;
      if (s.startsWith("node:")) continue;
      bare.add(s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!);
    }
    assert.deepEqual([...bare].sort(), Object.keys(pkg.dependencies).sort());
    const imports = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).imports;
    for (const [name, version] of Object.entries(pkg.dependencies)) {
      const spec = imports[name] ?? imports[`${name}/`];
      assert.ok(String(spec).includes(`${name}@${version}`), `${name}: ${spec} vs ${version}`);
    }
  },
});
