/**
 * Registers every feature plugin in {@linkcode PLUGINS} (imported by `cli/serve.ts`). One line
 * per feature; they run in this order when a node starts.
 *
 * @module
 */
import { PLUGINS } from "./mod.ts";
import { consolePlugin } from "./console/mod.ts";
import { quotaPlugin } from "./quota/mod.ts";
import { federationPlugin } from "./dht/mod.ts";

// Quota first: the console reads its services (quotaServices(ctx)).
PLUGINS.push(quotaPlugin);
PLUGINS.push(consolePlugin);
PLUGINS.push(federationPlugin);
