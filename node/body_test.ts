import assert from "node:assert/strict";
import { readBodyLimited, readJsonObject } from "./body.ts";
import { HttpError } from "./errors.ts";

const chunked = (chunks: number, size: number) => {
  let sent = 0;
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      pulled++;
      if (sent++ < chunks) ctl.enqueue(new Uint8Array(size));
      else ctl.close();
    },
  });
  return { req: new Request("http://x/", { method: "POST", body }), pulled: () => pulled };
};

Deno.test("a chunked body is cut off as soon as it passes the limit", async () => {
  const { req, pulled } = chunked(1000, 1024);
  await assert.rejects(
    readBodyLimited(req, 4096),
    (e) => e instanceof HttpError && e.status === 413,
  );
  assert.ok(pulled() < 10, `read ${pulled()} chunks of a body far over the limit`);
});

Deno.test("a declared Content-Length over the limit is refused before reading", async () => {
  const req = new Request("http://x/", {
    method: "POST",
    body: "x".repeat(10),
    headers: { "content-length": "999999" },
  });
  await assert.rejects(
    readBodyLimited(req, 100, "Thing", "thing"),
    (e) => e instanceof HttpError && e.status === 413 && e.field === "thing",
  );
});

Deno.test("JSON bodies: content type, syntax and shape each name their field", async () => {
  const post = (body: string, type = "application/json") =>
    new Request("http://x/", { method: "POST", body, headers: { "content-type": type } });
  assert.deepEqual(await readJsonObject(post('{"a":1}'), 100), { a: 1 });
  await assert.rejects(
    readJsonObject(post("{}", "text/plain"), 100),
    (e) => e instanceof HttpError && e.status === 415 && e.field === "content-type",
  );
  await assert.rejects(
    readJsonObject(post("{"), 100),
    (e) => e instanceof HttpError && e.status === 400 && e.field === "body",
  );
  await assert.rejects(
    readJsonObject(post("[1]"), 100),
    (e) => e instanceof HttpError && e.status === 400 && e.field === "body",
  );
});
