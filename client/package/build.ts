/**
 * `deno task package`: builds the npm package of the wallet library (`client/mod.ts`) into
 * `dist/npm/` (or `--out DIR`), ready for `npm pack` / `npm publish`:
 *
 * - `node.js`: ESM for Node 20+ (and bundlers targeting Node). Our code in one file; the npm
 *   dependencies stay imports and are declared in `package.json` with the versions `deno.json`
 *   pins, so an application shares one copy of noble/scure with its other code.
 *   `SubspaceClient.create()` uses `node:crypto` ECDH there (several times faster than noble).
 * - `browser.js`: ESM for browsers, self-contained (dependencies included) and minified, so a
 *   page can load it with a plain `<script type="module">` and no bundler. Pure noble: it never
 *   asks for `node:crypto`.
 * - `types/`: `.d.ts` declarations for both (`types/mod.d.ts`).
 * - `package.json` (with `exports` conditions `types`, `browser`, `node`, `default`) and
 *   `README.md` (`client/package/README.md`, with a send/receive example).
 *
 * Proxying (`proxy` option, `proxyFetch`) needs `Deno.connect`; under Node pass a `fetch` that
 * goes through the proxy instead.
 *
 * @module
 */
import ts from "typescript";
import { VERSION } from "../../node/version.ts";

const ROOT = new URL("../../", import.meta.url);
const ENTRY = new URL("client/mod.ts", ROOT).pathname;

/** The npm package name. */
export const PACKAGE_NAME = "subspace-wallet";

/** Builds the package into `out` (emptied first) and returns the dependencies it declared. */
export async function buildPackage(out: string): Promise<Record<string, string>> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${out}/types`, { recursive: true });
  const imports = (JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports: Record<string, string>;
  }).imports;
  const packages = [...new Set(Object.keys(imports).map((k) => k.replace(/\/$/, "")))];
  const pinnedVersion = (name: string) =>
    /^npm:\/?(?:@[^@/]+\/)?[^@/]+@([^/]+)\/?$/.exec(imports[name] ?? imports[`${name}/`] ?? "")
      ?.[1];

  await bundle([
    "--platform",
    "deno",
    ...packages.flatMap((p) => ["--external", p, "--external", `${p}/*`]),
  ], `${out}/node.js`);
  // Minified (about a third of the size gzipped); names kept for stack traces and error names.
  await bundle(["--platform", "browser", "--minify", "--keep-names"], `${out}/browser.js`);

  const nodeJs = await Deno.readTextFile(`${out}/node.js`);
  const dependencies: Record<string, string> = {};
  for (const m of nodeJs.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']/g)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith("node:") || spec.startsWith(".")) continue;
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
    const pinned = pinnedVersion(name);
    if (pinned === undefined) throw new Error(`${spec}: not pinned in deno.json imports`);
    dependencies[name] = pinned;
  }
  if (
    /\bDeno\.(?!connect|startTls|errors\.)/.test(nodeJs.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ""))
  ) {
    throw new Error("node.js uses the Deno namespace beyond the proxy");
  }

  await declarations(`${out}/types`);
  const sorted = Object.fromEntries(
    Object.entries(dependencies).sort(([a], [b]) => a < b ? -1 : 1),
  );
  const pkg = {
    name: PACKAGE_NAME,
    version: VERSION,
    description:
      "Subspace wallet library: private store-and-forward messages (memos, BIP70 payment requests, PSBTs) to Bitcoin stealth addresses",
    type: "module",
    main: "./node.js",
    browser: "./browser.js",
    types: "./types/mod.d.ts",
    exports: {
      ".": {
        types: "./types/mod.d.ts",
        browser: "./browser.js",
        node: "./node.js",
        default: "./browser.js",
      },
      "./package.json": "./package.json",
    },
    files: ["node.js", "browser.js", "types/", "README.md"],
    engines: { node: ">=20" },
    keywords: ["bitcoin", "stealth-address", "bip70", "psbt", "privacy-pass", "wallet"],
    dependencies: sorted,
  };
  await Deno.writeTextFile(`${out}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
  await Deno.copyFile(new URL("client/package/README.md", ROOT), `${out}/README.md`);
  return sorted;
}

async function bundle(flags: string[], output: string): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", ...flags, "-o", output, ENTRY],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.code !== 0) {
    throw new Error(
      `deno bundle ${flags.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`,
    );
  }
}

/** Emits `.d.ts` files for `client/` with TypeScript, imports rewritten from `.ts` to `.js`. */
async function declarations(outDir: string): Promise<void> {
  const written = new Map<string, string>();
  const options: ts.CompilerOptions = {
    declaration: true,
    emitDeclarationOnly: true,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: [],
    skipLibCheck: true,
    rootDir: new URL("client/", ROOT).pathname,
    outDir,
  };
  const host = ts.createCompilerHost(options);
  host.writeFile = (name, text) => written.set(name, text);
  const program = ts.createProgram([ENTRY], options, host);
  const result = program.emit();
  if (result.emitSkipped) throw new Error("TypeScript emitted no declarations");
  for (const [name, text] of written) {
    const fixed = text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g, "$1$2$3.js$2");
    await Deno.mkdir(name.slice(0, name.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(name, fixed);
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--out");
  const out = i >= 0 ? Deno.args[i + 1]! : new URL("dist/npm", ROOT).pathname;
  const deps = await buildPackage(out);
  console.log(`${PACKAGE_NAME}@${VERSION} built in ${out}`);
  console.log(`dependencies: ${Object.entries(deps).map(([n, v]) => `${n}@${v}`).join(", ")}`);
}
