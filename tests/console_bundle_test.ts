/**
 * The console's browser assets are embedded in `static/bundle.gen.ts` (the node never reads
 * the source tree at run time). This fails when the committed file is stale: run
 * `deno task build:islands`. It also keeps the client bundle small.
 */
import assert from "node:assert/strict";
import { buildIslands, GENERATED } from "../node/console/build_islands.ts";
import { CONSOLE_CSS, ISLANDS_JS } from "../static/bundle.gen.ts";

/** Budget for the minified islands bundle (preact + hooks + the islands). */
const MAX_JS_BYTES = 32 * 1024;

Deno.test("static/bundle.gen.ts is up to date with islands/ and static/console.css", async () => {
  const fresh = await buildIslands();
  const committed = await Deno.readTextFile(GENERATED);
  assert.ok(
    fresh === committed,
    "static/bundle.gen.ts is stale: run `deno task build:islands` and commit the result",
  );
});

Deno.test("the islands bundle is small, self-contained and has no precompiled JSX templates", () => {
  assert.ok(ISLANDS_JS.length < MAX_JS_BYTES, `bundle is ${ISLANDS_JS.length} bytes`);
  assert.doesNotMatch(ISLANDS_JS, /\bimport\s*[{(*"']/, "no imports left in the bundle");
  // Preact's DOM renderer cannot render jsxTemplate vnodes; the bundle must use plain vnodes.
  assert.doesNotMatch(ISLANDS_JS, /\btpl\b/);
  assert.match(ISLANDS_JS, /data-island|\[data-island\]/);
  assert.match(CONSOLE_CSS, /\.chart/);
});
