/**
 * The console's manifest: every page under `routes/console/` with its URL path, in navigation
 * order, the page frame, the login and password forms, and the browser assets built into
 * `static/bundle.gen.ts`, with the public page at `/` and the favicon. This is Fresh's `fresh.gen.ts` idea written by hand: the console
 * feature (`node/console/`) receives this table instead of importing `routes/`, so nothing
 * under `node/` depends on the pages. A new page is a file in `routes/console/` and a line
 * here.
 *
 * @example
 * ```ts ignore
 * import { consoleFeature } from "./node/console/mod.ts";
 * import { CONSOLE_MANIFEST } from "./console_manifest.ts";
 * const console = consoleFeature({ manifest: CONSOLE_MANIFEST });
 * ```
 *
 * @module
 */
import type { ConsoleManifest } from "./node/console/mod.ts";
import { Layout } from "./components/Layout.tsx";
import * as overview from "./routes/console/index.tsx";
import * as network from "./routes/console/network.tsx";
import * as quotas from "./routes/console/quotas.tsx";
import * as pricing from "./routes/console/pricing.tsx";
import * as settings from "./routes/console/settings.tsx";
import * as login from "./routes/console/login.tsx";
import * as password from "./routes/console/password.tsx";
import * as landing from "./routes/index.tsx";
import { CONSOLE_CSS, ISLANDS_JS } from "./static/bundle.gen.ts";
import { FAVICON_SVG } from "./static/favicon.ts";

/** The console's pages, frame, forms and assets. */
export const CONSOLE_MANIFEST: ConsoleManifest = {
  pages: [
    { path: "/console", route: overview },
    { path: "/console/network", route: network },
    { path: "/console/quotas", route: quotas },
    { path: "/console/pricing", route: pricing },
    { path: "/console/settings", route: settings },
  ],
  layout: Layout,
  login: { title: login.title, component: login.default },
  password: { title: password.title, component: password.default },
  assets: { islandsJs: ISLANDS_JS, consoleCss: CONSOLE_CSS, faviconSvg: FAVICON_SVG },
  landing: landing.default,
};
