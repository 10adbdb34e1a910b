/**
 * Server URL checks shared by the wallet library's HTTP calls. Private to `client/`.
 *
 * @module
 */

/**
 * Parses a server base URL.
 * @throws {RangeError} when `url` is not an http(s) URL.
 */
export function parseServerUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`Cannot parse server URL '${url}'`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new RangeError(`Cannot use server URL '${url}': expected http:// or https://`);
  }
  return u;
}

/** A server base URL without trailing slashes (`http://host:port/path`). */
export function normalizeServer(url: string): string {
  const u = parseServerUrl(url);
  return u.origin + u.pathname.replace(/\/+$/, "");
}
