/**
 * The console's page table: URL path → route module in `routes/console/` (the static
 * equivalent of Fresh's generated manifest, so the pages survive `deno bundle`).
 *
 * @module
 */
import type { RouteModule } from "./page.ts";
import * as overview from "../../routes/console/index.tsx";
import * as network from "../../routes/console/network.tsx";
import * as quotas from "../../routes/console/quotas.tsx";
import * as pricing from "../../routes/console/pricing.tsx";
import * as settings from "../../routes/console/settings.tsx";

// deno-lint-ignore no-explicit-any
type AnyRoute = RouteModule<any>;

/** Pages by path, in navigation order. */
export const PAGES: Record<string, AnyRoute> = {
  "/console": overview,
  "/console/network": network,
  "/console/quotas": quotas,
  "/console/pricing": pricing,
  "/console/settings": settings,
};
