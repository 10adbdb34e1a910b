/**
 * The small Fresh-style page contract of the console: a route module in `routes/console/`
 * exports a `handler` (GET and/or POST) and a default Preact component that renders the data
 * its handler passes to `render`. POSTs reach a handler only after the CSRF check.
 *
 * The console does not import its pages: a manifest beside `main.ts` ({@linkcode ConsoleManifest})
 * lists them with the layout, the login and password forms and the client bundle, and is
 * passed to `consoleFeature`.
 *
 * @module
 */
import type { ComponentChildren, VNode } from "preact";
import type { NodeCore } from "../feature.ts";
import type { HealthCheck, HealthReport } from "./health.ts";
import type { OverviewData } from "./overview.ts";
import type { Series, SeriesWindow } from "./series.ts";
import type { ConsoleSources } from "./sources.ts";
import type { SessionRecord } from "./state.ts";

/** A one-shot notice shown at the top of the next page. */
export interface Flash {
  kind: "ok" | "error";
  text: string;
}

/** One entry of the navigation. */
export interface NavEntry {
  href: string;
  label: string;
}

/** What every page (and the layout) knows. */
export interface PageInfo {
  /** Request path, e.g. `/console/pricing`. */
  path: string;
  /** The session's CSRF token: every form carries it in `_csrf`. */
  csrf: string;
  flash: Flash | undefined;
  version: string;
  nodeId: string | undefined;
  /** URL of the client bundle (hashed), or undefined on pages without islands. */
  scriptUrl: string | undefined;
  /** URL of the stylesheet (hashed). */
  styleUrl: string;
  /** The navigation, in the manifest's order. */
  nav: readonly NavEntry[];
  /** Health checks that are not ok (the layout shows them as a banner). */
  problems?: HealthCheck[] | undefined;
}

/** Props of a page component. */
export interface PageProps<D> {
  data: D;
  page: PageInfo;
}

/** What a handler gets. */
export interface PageContext<D> {
  req: Request;
  url: URL;
  /** The node core (config, store, log, clock). */
  core: NodeCore;
  /** What the other features publish for the console; a missing part is "not available". */
  sources: ConsoleSources;
  series: Series;
  /** The overview's live data for a chart window. */
  overview(window: SeriesWindow): OverviewData;
  /** The node's health, evaluated for this request. */
  health: HealthReport;
  session: SessionRecord;
  /** What the layout will show (path, CSRF token, version, ...). */
  page: PageInfo;
  /** The posted form (POST only; its CSRF token has been checked). */
  form: FormData | undefined;
  /** Ends every operator session (this one too). */
  endAllSessions(): Promise<void>;
  /** Renders the page with `data`. */
  render(data: D, init?: { status?: number; flash?: Flash }): Response;
  /** 303 See Other to `path` (PRG), with a notice for the next page. */
  redirect(path: string, flash?: Flash): Response;
}

/** Request handlers of a route. */
export interface Handlers<D> {
  GET?(pc: PageContext<D>): Response | Promise<Response>;
  POST?(pc: PageContext<D>): Response | Promise<Response>;
}

/** A route module. */
export interface RouteModule<D> {
  /** Title shown in the navigation and the `<title>`. */
  title: string;
  handler: Handlers<D>;
  default: (props: PageProps<D>) => VNode;
}

/** A page of the manifest: its URL path and its route module. */
export interface ConsolePage {
  /** URL path, e.g. `/console/pricing`. */
  path: string;
  // deno-lint-ignore no-explicit-any
  route: RouteModule<any>;
}

/** Props of the page frame. */
export interface LayoutProps {
  title: string;
  page: PageInfo;
  /** Hide navigation (login and first password pages). */
  bare?: boolean;
  children: ComponentChildren;
}

/** Props of the login form. */
export interface LoginProps {
  /** Double-submit CSRF token (also in a cookie). */
  csrf: string;
  /** Where to go after logging in. */
  next: string;
  error: string | undefined;
}

/** Props of the password form. */
export interface PasswordProps {
  csrf: string;
  /** Logged in with the one-time password: no current password is asked for. */
  firstTime: boolean;
  minLength: number;
  error: string | undefined;
}

/** What the public page at `/` shows (the same values as `/v1/info` and `/v1/pricing`). */
export interface LandingData {
  /** This node's URL as the visitor reached it (or its public URL). */
  origin: string;
  version: string;
  nodeId: string | undefined;
  /** `tokens`: a message costs a token; `open`: anyone may post. */
  quota: string;
  maxPayloadBytes: number;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  maxWaitSeconds: number;
  maxStoreBytes: number;
  /** Prices, when the fees feature runs. */
  pricing?: {
    freeTokens: number;
    periodSeconds: number;
    tokensPerBundle: number;
    bundlePriceSats: number;
    feesEnabled: boolean;
  };
  /** `--operator-contact`, if set. */
  operatorContact: string | undefined;
  /** The stylesheet's URL. */
  styleUrl: string;
}

/**
 * Everything the console renders, declared outside `node/` (Fresh's generated manifest, written
 * by hand): the pages in navigation order, the frame, the two forms whose handlers the console
 * keeps (they create sessions), and the client bundle with the stylesheet.
 *
 * @example
 * ```ts ignore
 * const manifest: ConsoleManifest = {
 *   pages: [{ path: "/console", route: overview }],
 *   layout: Layout,
 *   login: { title: "Log in", component: Login },
 *   password: { title: "Change password", component: Password },
 *   assets: { islandsJs: ISLANDS_JS, consoleCss: CONSOLE_CSS },
 * };
 * ```
 */
export interface ConsoleManifest {
  /** Pages by path, in navigation order. */
  pages: readonly ConsolePage[];
  /** The whole HTML document around a page. */
  layout: (props: LayoutProps) => VNode;
  login: { title: string; component: (props: LoginProps) => VNode };
  password: { title: string; component: (props: PasswordProps) => VNode };
  /** The browser assets, served from memory at hashed URLs (the favicon at `/favicon.ico`). */
  assets: { islandsJs: string; consoleCss: string; faviconSvg?: string };
  /** The public page at `/` (none: `/` stays unrouted). */
  landing?: (props: { data: LandingData }) => VNode;
}

/** Reads a form field as a trimmed string ("" when absent). */
export function formString(form: FormData | undefined, name: string): string {
  const v = form?.get(name);
  return typeof v === "string" ? v.trim() : "";
}

/**
 * Reads a form field as a non-negative safe integer, or throws a `RangeError` naming it.
 *
 * @example
 * ```ts ignore
 * const tokens = formInt(pc.form, "tokens", "Tokens");
 * ```
 */
export function formInt(
  form: FormData | undefined,
  name: string,
  label: string,
  opts: { min?: number; max?: number } = {},
): number {
  const raw = formString(form, name);
  if (!/^\d+$/.test(raw)) {
    throw new RangeError(`${label}: expected a whole number, got '${raw.slice(0, 40)}'`);
  }
  const n = Number(raw);
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(`${label}: expected a number from ${min} to ${max}, got ${raw}`);
  }
  return n;
}
