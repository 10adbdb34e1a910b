/**
 * Registers every feature plugin in {@linkcode PLUGINS} (imported by `cli/serve.ts`). One line
 * per feature; they run in this order when a node starts.
 *
 * @module
 */
import { PLUGINS } from "./mod.ts";
import { consolePlugin } from "./console/mod.ts";

PLUGINS.push(consolePlugin);
