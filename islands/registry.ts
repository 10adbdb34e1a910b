/**
 * Every island by name. The server renders islands through `components/Island.tsx` and the
 * client bundle (`client_entry.ts`) hydrates them from this same table.
 *
 * @module
 */
import OverviewLive from "./OverviewLive.tsx";

/** Islands by the name used in `data-island`. */
export const ISLANDS = { OverviewLive } as const;

/** An island's name. */
export type IslandName = keyof typeof ISLANDS;
