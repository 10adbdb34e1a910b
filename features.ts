/**
 * The node's standard features, in the order they install. `subspace serve` runs exactly this
 * list; tests and embedders may pass a subset to `startNode`.
 *
 * @module
 */
import type { Feature } from "./node/mod.ts";
import { consoleFeature } from "./node/console/mod.ts";
import { federationFeature } from "./node/dht/mod.ts";
import { feesFeature } from "./node/fees/mod.ts";
import { quotaFeature } from "./node/quota/mod.ts";
import { CONSOLE_MANIFEST } from "./console_manifest.ts";

/**
 * Every feature of a full node.
 *
 * @example
 * ```ts ignore
 * const node = await startNode(config, { features: standardFeatures() });
 * ```
 */
export function standardFeatures(): Feature[] {
  return [
    quotaFeature(),
    feesFeature(),
    federationFeature(),
    consoleFeature({ manifest: CONSOLE_MANIFEST }),
  ];
}
