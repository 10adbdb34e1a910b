/**
 * Subspace: one executable for the node (`serve`), the wallet CLI and the operator tools.
 *
 * This file only wires: it hands the command line to the CLI dispatcher.
 *
 * @module
 */
import { main } from "./cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
