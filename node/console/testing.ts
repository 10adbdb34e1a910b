/**
 * Test helpers for the console: an in-process node with the console feature (the real page
 * manifest, cheap scrypt, the one-time password captured instead of logged), a feature that
 * publishes given services (to show the console views of features a test does not run), and a
 * tiny cookie-keeping client that logs in and submits forms the way a browser without
 * JavaScript would.
 *
 * @module
 */
import type { Feature, NodeCore, RunningNode } from "../mod.ts";
import { testNode } from "../testing.ts";
import { CONSOLE_MANIFEST } from "../../console_manifest.ts";
import { consoleFeature } from "./feature.tsx";

/** scrypt parameters cheap enough for tests. */
export const TEST_SCRYPT = { N: 1 << 10, r: 8, p: 1 };

/** A node with the console, and its one-time password. */
export interface ConsoleTestNode {
  node: RunningNode & { dataDir: string };
  /** The one-time password the node generated on start. */
  oneTimePassword: string;
  /** A new client without cookies. */
  client(): ConsoleClient;
  close(): Promise<void>;
}

/**
 * A feature that only publishes services (a stand-in for another feature's console view).
 *
 * @example
 * ```ts ignore
 * const fed = providing("federation", (core) => core.provide(NETWORK_CONSOLE, { view: () => v }));
 * ```
 */
export function providing(name: string, publish: (core: NodeCore) => void): Feature {
  return {
    name,
    install(core) {
      publish(core);
      return {};
    },
  };
}

/**
 * Starts an in-process node with the console (and `features` before it; the console reads
 * their services whatever the order).
 */
export async function consoleTestNode(
  opts: { args?: string[]; features?: Feature[] } = {},
): Promise<ConsoleTestNode> {
  let oneTimePassword = "";
  const node = await testNode({
    // Without a token feature the node needs `--quota open` (unless a test asks otherwise).
    args: [...(opts.args?.includes("--quota") ? [] : ["--quota", "open"]), ...(opts.args ?? [])],
    features: [
      ...(opts.features ?? []),
      consoleFeature({
        manifest: CONSOLE_MANIFEST,
        scrypt: TEST_SCRYPT,
        announcePassword: (p) => oneTimePassword = p,
      }),
    ],
  });
  return {
    node,
    oneTimePassword,
    client: () => new ConsoleClient((req) => node.fetch(req)),
    close: () => node.close(),
  };
}

/** The first `_csrf` value in a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF field in page");
  return m[1]!;
}

/** A cookie jar and form poster over a fetch function. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  readonly #fetch: (req: Request) => Promise<Response>;
  /** Origin used for request URLs. */
  base = "http://127.0.0.1";

  constructor(fetch: (req: Request) => Promise<Response>) {
    this.#fetch = fetch;
  }

  /** Sends a request with the jar's cookies and keeps the cookies it sets. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has("cookie")) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const res = await this.#fetch(new Request(this.base + path, { ...init, headers }));
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "") {
        this.cookies.delete(name);
      } else this.cookies.set(name, value);
    }
    return res;
  }

  /** GETs a page and returns its HTML (and status). */
  async page(path: string): Promise<{ status: number; html: string; res: Response }> {
    const res = await this.request(path);
    return { status: res.status, html: await res.text(), res };
  }

  /** POSTs a urlencoded form. */
  post(path: string, fields: Record<string, string>, headers: HeadersInit = {}): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(fields),
      redirect: "manual",
    });
  }

  /** Loads `page`, then posts `fields` with its CSRF token to `action` (default: same page). */
  async submit(page: string, fields: Record<string, string>, action = page): Promise<Response> {
    const { html } = await this.page(page);
    return await this.post(action, { _csrf: csrfOf(html), ...fields });
  }

  /** Logs in with `password`; returns the login response (303 on success). */
  async login(password: string, next = "/console"): Promise<Response> {
    const { html } = await this.page("/console/login");
    return await this.post("/console/login", { _csrf: csrfOf(html), password, next });
  }

  /** Logs in with the one-time password and sets `newPassword`; returns the final response. */
  async firstLogin(oneTimePassword: string, newPassword: string): Promise<Response> {
    const res = await this.login(oneTimePassword);
    if (res.headers.get("location") !== "/console/password") {
      throw new Error(`first login: expected a redirect to the password page, got ${res.status}`);
    }
    return await this.submit("/console/password", { password: newPassword, confirm: newPassword });
  }
}
