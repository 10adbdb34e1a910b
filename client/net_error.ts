/**
 * Network failures explained: `fetch` rejects with a bare `TypeError: fetch failed` whatever
 * went wrong, with the reason (if any) in `cause`. {@linkcode toNetworkError} turns it into a
 * {@linkcode NetworkError} that says what failed — refused, unknown host, TLS, timeout, reset,
 * proxy — and what to check, so a wallet can show it to a person as is.
 *
 * @module
 */

/** What kind of network failure a {@linkcode NetworkError} is. */
export type NetworkErrorKind =
  | "refused"
  | "dns"
  | "tls"
  | "timeout"
  | "reset"
  | "proxy"
  | "other";

/** A request that got no HTTP answer, with what failed and what to check. */
export class NetworkError extends Error {
  /** What failed. */
  readonly kind: NetworkErrorKind;
  /** The URL requested. */
  readonly url: string;
  /**
   * Whether trying again may help: refused, timeout, reset (a node restarting or overloaded), and
   * a browser's opaque "Failed to fetch".
   */
  readonly transient: boolean;
  constructor(
    kind: NetworkErrorKind,
    url: string,
    message: string,
    cause?: unknown,
    transient = kind === "refused" || kind === "timeout" || kind === "reset",
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "NetworkError";
    this.kind = kind;
    this.url = url;
    this.transient = transient;
  }
}

function causes(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, i = 0; c !== undefined && c !== null && i < 5; i++) {
    if (c instanceof Error) {
      parts.push(c.message, String((c as { code?: unknown }).code ?? ""));
      c = c.cause;
    } else {
      parts.push(String(c));
      break;
    }
  }
  return parts.join(" | ");
}

/**
 * Explains a transport failure of a request to `url`. `timeoutMs` is the deadline the request
 * had, when it was aborted by one. A {@linkcode NetworkError} passes through unchanged.
 *
 * @example
 * ```ts
 * try {
 *   await fetch(url);
 * } catch (e) {
 *   throw toNetworkError(e, url);
 * }
 * ```
 */
export function toNetworkError(e: unknown, url: string, timeoutMs?: number): NetworkError {
  if (e instanceof NetworkError) return e;
  const u = new URL(url);
  const where = u.host;
  const text = causes(e);
  if (e instanceof Error && e.name === "ProxyError") {
    return new NetworkError(
      "proxy",
      url,
      `cannot reach ${where} through the proxy: ${e.message}`,
      e,
    );
  }
  if (
    (e instanceof DOMException && e.name === "TimeoutError") || /timed? ?out|ETIMEDOUT/i.test(text)
  ) {
    const after = timeoutMs === undefined ? "" : ` within ${formatSeconds(timeoutMs)}`;
    return new NetworkError(
      "timeout",
      url,
      `no answer from ${where}${after}: the node or the network is down or overloaded`,
      e,
    );
  }
  if (/refused|ECONNREFUSED|os error 111/i.test(text)) {
    return new NetworkError(
      "refused",
      url,
      `connection refused by ${where}: is a Subspace node running there? Check the host and port`,
      e,
    );
  }
  if (
    /dns error|ENOTFOUND|EAI_AGAIN|failed to lookup|Name or service not known|nodename/i.test(text)
  ) {
    return new NetworkError(
      "dns",
      url,
      `cannot resolve ${u.hostname}: check the host name for typos, and your network or DNS`,
      e,
    );
  }
  if (/tls|ssl|certificate|handshake|InvalidContentType|corrupt message|EPROTO/i.test(text)) {
    const hint = u.protocol === "https:"
      ? "if the node serves plain HTTP, use http://; otherwise its certificate is not trusted here"
      : "check the URL's scheme";
    return new NetworkError(
      "tls",
      url,
      `TLS with ${where} failed (${lastCause(e)}): ${hint}`,
      e,
    );
  }
  if (/reset|ECONNRESET|os error 104|broken pipe|connection closed|EPIPE/i.test(text)) {
    return new NetworkError(
      "reset",
      url,
      `${where} closed the connection: the node may be restarting, or something between drops it`,
      e,
    );
  }
  if (
    /^(Failed to fetch|NetworkError when attempting to fetch resource\.?|Load failed)$/.test(
      lastCause(e),
    )
  ) {
    // A browser: it hides why (down, refused, or blocked by CORS) from the page.
    return new NetworkError(
      "other",
      url,
      `cannot reach ${where} from this page: the node is down, or does not allow this page's origin (CORS: the node's --cors-origins)`,
      e,
      true, // it may be down: worth another try
    );
  }
  return new NetworkError("other", url, `cannot reach ${where}: ${lastCause(e)}`, e);
}

function lastCause(e: unknown): string {
  let c: unknown = e;
  for (let i = 0; i < 5 && c instanceof Error && c.cause instanceof Error; i++) c = c.cause;
  const msg = c instanceof Error ? c.message : String(c);
  // Deno prefixes "error sending request for url (...): client error (Connect): ".
  return msg.replace(/^.*\((?:Connect|SendRequest)\):\s*/, "");
}

/** `250 ms`, `1.5 s`, `30 s`. */
export function formatSeconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
