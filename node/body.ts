/**
 * Reading request and response bodies with a size limit enforced while reading: a declared
 * `Content-Length` over the limit is refused before anything is read, and a chunked body is cut
 * off as soon as it passes the limit.
 *
 * @module
 */
import { badRequest, HttpError } from "./errors.ts";

/**
 * Reads a stream to its end, or returns `null` (having cancelled it) once more than `maxBytes`
 * arrived.
 */
export async function readStreamLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
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
  const bytes = await readStreamLimited(req.body, maxBytes);
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
