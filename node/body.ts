/**
 * Reading request and response bodies with a size limit enforced while reading: a declared
 * `Content-Length` over the limit is refused before anything is read, and a chunked body is cut
 * off as soon as it passes the limit. A body must also arrive before its deadline (set by the
 * listener with {@linkcode setBodyDeadline}); a client that sends too slowly gets 408 and its
 * connection is closed, and one that goes away mid-upload is not an error of ours: both throw an
 * {@linkcode IncompleteBodyError}, which the app counts and never logs as an error.
 *
 * @module
 */
import { badRequest, HttpError } from "./errors.ts";

/** Why a request body did not arrive whole. */
export type IncompleteBodyReason = "aborted" | "timeout";

/**
 * A request body that did not arrive: the client went away (`aborted`, 400) or sent too slowly
 * (`timeout`, 408 with `Connection: close`). A client's doing, never a 5xx.
 */
export class IncompleteBodyError extends HttpError {
  readonly reason: IncompleteBodyReason;
  constructor(reason: IncompleteBodyReason, what = "Request body") {
    super(
      reason === "timeout" ? 408 : 400,
      reason === "timeout"
        ? `${what} did not arrive in time`
        : `${what} ended before it was complete: the client went away`,
      { field: "body", headers: { connection: "close" } },
    );
    this.name = "IncompleteBodyError";
    this.reason = reason;
  }
}

const deadlines = new WeakMap<Request, number>();

/**
 * Sets the time (`performance.now()` milliseconds) by which `req`'s body must have been read;
 * {@linkcode readBodyLimited} enforces it. Requests without one have no deadline.
 */
export function setBodyDeadline(req: Request, atMs: number): void {
  deadlines.set(req, atMs);
}

/** The deadline set for `req`'s body, for readers that call {@linkcode readStreamLimited}. */
export function bodyDeadline(req: Request): number | undefined {
  return deadlines.get(req);
}

/**
 * Reads a stream to its end, or returns `null` (having cancelled it) once more than `maxBytes`
 * arrived. With `deadlineMs` (`performance.now()` time) a stream still open then is cancelled
 * and an {@linkcode IncompleteBodyError} (`timeout`) thrown. A stream that fails while being read
 * rethrows its error.
 */
export async function readStreamLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  deadlineMs?: number,
): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  let timedOut = false;
  // Cancelling ends the read in progress (it resolves as done), so the loop below needs no
  // race per chunk.
  const timer = deadlineMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, Math.max(0, deadlineMs - performance.now()));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) throw new IncompleteBodyError("timeout");
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Whole-body reads waiting on a deadline; {@linkcode expireBodyReads} fails the overdue ones. */
const awaiting = new Set<{ atMs: number; expire: () => void }>();

/**
 * Fails every whole-body read whose deadline has passed with an {@linkcode IncompleteBodyError}
 * (`timeout`). The listener that sets deadlines ({@linkcode setBodyDeadline}) calls it from the
 * sweep it already runs over its connections: no timer per request.
 */
export function expireBodyReads(now: number = performance.now()): void {
  for (const e of awaiting) if (now >= e.atMs) e.expire();
}

/**
 * Reads a body of declared length whole. Once {@linkcode expireBodyReads} finds it past
 * `deadlineMs` it throws an {@linkcode IncompleteBodyError} (`timeout`); the read left behind
 * ends when the connection is closed (the error's `Connection: close`).
 */
async function readWhole(req: Request, deadlineMs: number | undefined): Promise<Uint8Array> {
  const read = req.arrayBuffer();
  if (deadlineMs === undefined) return new Uint8Array(await read);
  read.catch(() => {});
  let entry: { atMs: number; expire: () => void } | undefined;
  const expired = new Promise<never>((_, reject) => {
    entry = { atMs: deadlineMs, expire: () => reject(new IncompleteBodyError("timeout")) };
    awaiting.add(entry);
  });
  try {
    return new Uint8Array(await Promise.race([read, expired]));
  } finally {
    awaiting.delete(entry!);
  }
}

/**
 * Reads a request body, refusing it with `413` (naming `field`) past `maxBytes`.
 *
 * @example
 * ```ts
 * const bytes = await readBodyLimited(request, 4096, "Token request");
 * ```
 */
export async function readBodyLimited(
  req: Request,
  maxBytes: number,
  what = "Request body",
  field = "body",
): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(413, `${what} is too large: at most ${maxBytes} bytes`, { field });
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  let bytes;
  try {
    // A declared length within the limit bounds the body (the runtime reads exactly that many
    // bytes), so it is read whole, natively: a stream reader costs about 25 µs more per request.
    bytes = declared !== null
      ? await readWhole(req, deadlines.get(req))
      : await readStreamLimited(req.body, maxBytes, deadlines.get(req));
  } catch (err) {
    // A request body fails while being read only when the client's connection does.
    throw err instanceof HttpError ? err : new IncompleteBodyError("aborted", what);
  }
  if (bytes === null) throw tooLarge();
  return bytes;
}

/** Parses a JSON object body: content type, size limit, syntax, shape; each error names its field. */
export async function readJsonObject(
  req: Request,
  maxBytes: number,
  field = "body",
): Promise<Record<string, unknown>> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, `Expected content-type application/json, got '${type || "none"}'`, {
      field: "content-type",
    });
  }
  const bytes = await readBodyLimited(req, maxBytes, "Request body", field);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw badRequest("body", "Cannot parse body: invalid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("body", "Cannot parse body: expected a JSON object");
  }
  return body as Record<string, unknown>;
}

/** Reads a urlencoded or multipart form, refusing it with `413` past `maxBytes`. */
export async function readFormLimited(req: Request, maxBytes: number): Promise<FormData> {
  const bytes = await readBodyLimited(req, maxBytes, "Form");
  try {
    return await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": req.headers.get("content-type") ?? "" },
    }).formData();
  } catch {
    return new FormData();
  }
}
