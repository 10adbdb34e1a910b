/**
 * Fetch through a proxy, for wallets that talk to Subspace over Tor: SOCKS5 (RFC 1928, with
 * RFC 1929 username/password, host names resolved by the proxy) or HTTP `CONNECT`. Runs under
 * Deno (it needs `Deno.connect`); browsers use their own proxy settings.
 *
 * The HTTP/1.1 client here is deliberately small: one request per connection
 * (`Connection: close`), `Content-Length`, chunked or read-to-close bodies, TLS via
 * `Deno.startTls` for `https:` targets.
 *
 * @module
 */
import { concat, toBase64, utf8 } from "./bytes.ts";

/** A `fetch`-compatible function. */
export type FetchLike = (input: Request) => Promise<Response>;

/** Error raised when the proxy refuses or fails the tunnel. */
export class ProxyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxyError";
  }
}

const SOCKS5_REPLIES: Record<number, string> = {
  1: "general SOCKS server failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

/**
 * Buffered reads from a connection. Data is kept as a queue of chunks, so reading a large body
 * costs one copy, not one per chunk.
 */
class Reader {
  #chunks: Uint8Array<ArrayBuffer>[] = [];
  #length = 0;
  constructor(readonly conn: Deno.Conn) {}

  async fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    this.#chunks.push(chunk.slice(0, n));
    this.#length += n;
    return true;
  }

  /** Removes and returns the first `n` buffered bytes (n <= buffered). */
  #take(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.slice(k);
    }
    this.#length -= n;
    return out;
  }

  /** Merges the first chunks so that the first one holds at least `n` bytes (or all). */
  #front(n: number): Uint8Array {
    if ((this.#chunks[0]?.length ?? 0) < Math.min(n, this.#length)) {
      const all = this.#take(this.#length);
      this.#chunks = [all];
      this.#length = all.length;
    }
    return this.#chunks[0] ?? new Uint8Array(0);
  }

  async exactly(n: number, what: string): Promise<Uint8Array<ArrayBuffer>> {
    while (this.#length < n) {
      if (!(await this.fill())) throw new ProxyError(`connection closed while reading ${what}`);
    }
    return this.#take(n);
  }

  /** Reads up to and including the first CRLFCRLF; returns the text before it. */
  async headerBlock(what: string, maxBytes = 64 * 1024): Promise<string> {
    for (;;) {
      const head = this.#front(Infinity);
      const i = indexOfCrlfCrlf(head);
      if (i >= 0) {
        const text = new TextDecoder().decode(this.#take(i));
        this.#take(4);
        return text;
      }
      if (this.#length > maxBytes) throw new ProxyError(`${what} too large`);
      if (!(await this.fill())) throw new ProxyError(`connection closed while reading ${what}`);
    }
  }

  /** Reads one CRLF-terminated line (at most 8 KiB). */
  async line(what: string): Promise<string> {
    for (;;) {
      const head = this.#front(8 * 1024);
      const i = head.findIndex((b, j) => b === 13 && head[j + 1] === 10);
      if (i >= 0) {
        const text = new TextDecoder().decode(this.#take(i));
        this.#take(2);
        return text;
      }
      if (this.#length > 8 * 1024) throw new ProxyError(`${what} line too long`);
      if (!(await this.fill())) throw new ProxyError(`connection closed while reading ${what}`);
    }
  }

  async rest(): Promise<Uint8Array<ArrayBuffer>> {
    while (await this.fill()) { /* read to EOF */ }
    return this.#take(this.#length);
  }

  /** Bytes already buffered (used when handing a tunnel over to TLS: must be none). */
  get buffered(): number {
    return this.#length;
  }
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Connects to the proxy itself; a failure there is the proxy's, and said so. */
async function connectToProxy(proxy: URL, defaultPort: string): Promise<Deno.Conn> {
  const hostname = proxy.hostname.replace(/^\[|\]$/g, "");
  const port = Number(proxy.port || defaultPort);
  try {
    return await Deno.connect({ hostname, port });
  } catch (e) {
    const why = e instanceof Deno.errors.ConnectionRefused
      ? "refused the connection: is the proxy (Tor) running there?"
      : `cannot be reached: ${(e as Error).message}`;
    throw new ProxyError(`the proxy ${hostname}:${port} ${why}`);
  }
}

function targetOf(url: URL): { host: string; port: number } {
  const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port };
}

/**
 * Opens a TCP tunnel to `host:port` through a SOCKS5 proxy (RFC 1928). Host names are sent to
 * the proxy unresolved (address type 3), as Tor requires for `.onion` names.
 *
 * @throws {ProxyError} with the proxy's reply code explained.
 */
async function socks5Connect(
  proxy: URL,
  host: string,
  port: number,
): Promise<Deno.Conn> {
  const conn = await connectToProxy(proxy, "1080");
  try {
    const r = new Reader(conn);
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    const methods = user !== "" ? [0x00, 0x02] : [0x00];
    await writeAll(conn, Uint8Array.of(0x05, methods.length, ...methods));
    const [ver, method] = await r.exactly(2, "SOCKS5 method reply");
    if (ver !== 0x05) throw new ProxyError(`not a SOCKS5 proxy (version byte ${ver})`);
    if (method === 0xff) throw new ProxyError("SOCKS5 proxy accepts none of our auth methods");
    if (method === 0x02) {
      const u = utf8.encode(user);
      const p = utf8.encode(pass);
      if (u.length > 255 || p.length > 255) throw new ProxyError("SOCKS5 credentials too long");
      await writeAll(conn, concat(Uint8Array.of(0x01, u.length), u, Uint8Array.of(p.length), p));
      const [, status] = await r.exactly(2, "SOCKS5 auth reply");
      if (status !== 0x00) throw new ProxyError("SOCKS5 proxy rejected the username/password");
    } else if (method !== 0x00) {
      throw new ProxyError(`SOCKS5 proxy chose unsupported auth method ${method}`);
    }
    let addr: Uint8Array;
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
      addr = Uint8Array.of(0x01, ...host.split(".").map(Number));
    } else {
      const h = utf8.encode(host);
      if (h.length > 255) throw new ProxyError("host name too long for SOCKS5");
      addr = concat(Uint8Array.of(0x03, h.length), h);
    }
    await writeAll(
      conn,
      concat(Uint8Array.of(0x05, 0x01, 0x00), addr, Uint8Array.of(port >> 8, port & 0xff)),
    );
    const [v2, rep, , atyp] = await r.exactly(4, "SOCKS5 connect reply");
    if (v2 !== 0x05) throw new ProxyError(`bad SOCKS5 reply version ${v2}`);
    if (rep !== 0x00) {
      throw new ProxyError(
        `SOCKS5 proxy could not connect to ${host}:${port}: ${
          SOCKS5_REPLIES[rep!] ?? `reply code ${rep}`
        }`,
      );
    }
    const addrLen = atyp === 0x01
      ? 4
      : atyp === 0x04
      ? 16
      : atyp === 0x03
      ? (await r.exactly(1, "SOCKS5 bound address"))[0]!
      : -1;
    if (addrLen < 0) throw new ProxyError(`bad SOCKS5 bound address type ${atyp}`);
    await r.exactly(addrLen + 2, "SOCKS5 bound address");
    if (r.buffered !== 0) throw new ProxyError("SOCKS5 proxy sent data before the tunnel opened");
    return conn;
  } catch (e) {
    conn.close();
    throw e;
  }
}

/**
 * Opens a TCP tunnel to `host:port` through an HTTP proxy with `CONNECT`.
 *
 * @throws {ProxyError} when the proxy answers with a non-2xx status.
 */
async function httpConnect(proxy: URL, host: string, port: number): Promise<Deno.Conn> {
  const conn = await connectToProxy(proxy, "8080");
  try {
    const authority = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    let req = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
    if (proxy.username !== "") {
      const cred = toBase64(
        utf8.encode(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`),
      );
      req += `Proxy-Authorization: Basic ${cred}\r\n`;
    }
    await writeAll(conn, utf8.encode(req + "\r\n"));
    const r = new Reader(conn);
    const head = await r.headerBlock("CONNECT response");
    const status = Number(head.split(" ")[1]);
    if (!(status >= 200 && status < 300)) {
      throw new ProxyError(`HTTP proxy refused CONNECT ${authority}: ${head.split("\r\n")[0]}`);
    }
    if (r.buffered !== 0) throw new ProxyError("HTTP proxy sent data before the tunnel opened");
    return conn;
  } catch (e) {
    conn.close();
    throw e;
  }
}

async function readChunked(r: Reader): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const sizeLine = await r.line("chunk size");
    const size = parseInt(sizeLine.split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new ProxyError(`bad chunk size '${sizeLine}'`);
    if (size === 0) {
      while ((await r.line("trailer")) !== "") { /* skip trailers */ }
      return concat(...parts);
    }
    parts.push(await r.exactly(size, "chunk"));
    await r.exactly(2, "chunk end");
  }
}

/**
 * Sends one HTTP/1.1 request over an open connection and parses the response.
 */
async function httpOverConn(conn: Deno.Conn, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const body = req.body === null ? new Uint8Array(0) : new Uint8Array(await req.arrayBuffer());
  let head = `${req.method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `Connection: close\r\n`;
  const skip = new Set(["host", "connection", "content-length", "transfer-encoding"]);
  req.headers.forEach((v, k) => {
    if (!skip.has(k)) head += `${k}: ${v}\r\n`;
  });
  if (body.length > 0 || !["GET", "HEAD"].includes(req.method)) {
    head += `Content-Length: ${body.length}\r\n`;
  }
  await writeAll(conn, concat(utf8.encode(head + "\r\n"), body));
  const r = new Reader(conn);
  const block = await r.headerBlock("response headers");
  const [statusLine, ...lines] = block.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine ?? "");
  if (m === null) throw new ProxyError(`bad HTTP status line '${statusLine}'`);
  const headers = new Headers();
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const status = Number(m[1]);
  let data: Uint8Array<ArrayBuffer>;
  if (req.method === "HEAD" || status === 204 || status === 304) {
    data = new Uint8Array(0);
  } else if ((headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked")) {
    data = await readChunked(r);
  } else if (headers.has("content-length")) {
    data = await r.exactly(Number(headers.get("content-length")), "response body");
  } else {
    data = await r.rest();
  }
  headers.delete("transfer-encoding");
  return new Response(status === 204 || status === 304 ? null : data, {
    status,
    statusText: m[2] ?? "",
    headers,
  });
}

/**
 * Returns a fetch function that tunnels every request through `proxyUrl`:
 * `socks5://[user:pass@]host:port` (also `socks5h://`) or `http://[user:pass@]host:port`.
 *
 * @example
 * ```ts
 * const fetchViaTor = proxyFetch("socks5://127.0.0.1:9050");
 * const res = await fetchViaTor(new Request("http://example.onion/v1/info"));
 * ```
 */
export function proxyFetch(proxyUrl: string): FetchLike {
  let proxy: URL;
  try {
    proxy = new URL(proxyUrl);
  } catch {
    throw new RangeError(`Cannot parse proxy URL '${proxyUrl}'`);
  }
  const kind = proxy.protocol === "socks5:" || proxy.protocol === "socks5h:"
    ? "socks5"
    : proxy.protocol === "http:"
    ? "http"
    : undefined;
  if (kind === undefined) {
    throw new RangeError(
      `Cannot use proxy '${proxyUrl}': expected socks5://host:port or http://host:port`,
    );
  }
  if (typeof (globalThis as { Deno?: unknown }).Deno === "undefined") {
    throw new TypeError(
      `Cannot use proxy '${proxyUrl}': proxying needs Deno (Deno.connect); elsewhere pass a fetch that goes through the proxy`,
    );
  }
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new RangeError(`Cannot fetch ${url.protocol} URLs through a proxy`);
    }
    const { host, port } = targetOf(url);
    let conn: Deno.Conn = kind === "socks5"
      ? await socks5Connect(proxy, host, port)
      : await httpConnect(proxy, host, port);
    if (url.protocol === "https:") {
      conn = await Deno.startTls(conn as Deno.TcpConn, { hostname: host });
    }
    const onAbort = () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    };
    req.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await httpOverConn(conn, req);
    } catch (e) {
      if (req.signal.aborted) throw req.signal.reason ?? new DOMException("aborted", "AbortError");
      throw e;
    } finally {
      req.signal.removeEventListener("abort", onAbort);
      onAbort();
    }
  };
}
