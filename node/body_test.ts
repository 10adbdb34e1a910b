import assert from "node:assert/strict";
import {
  expireBodyReads,
  IncompleteBodyError,
  readBodyLimited,
  readJsonObject,
  setBodyDeadline,
} from "./body.ts";
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

Deno.test("a body still arriving at its deadline is cut with 408 and Connection: close", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(new Uint8Array(3));
    },
    cancel() {
      cancelled = true;
    },
  });
  const req = new Request("http://x/", { method: "POST", body });
  setBodyDeadline(req, performance.now() + 50);
  const started = performance.now();
  await assert.rejects(
    readBodyLimited(req, 4096),
    (e) =>
      e instanceof IncompleteBodyError && e.reason === "timeout" && e.status === 408 &&
      e.headers.connection === "close",
  );
  assert.ok(performance.now() - started < 1000);
  assert.ok(cancelled, "the stream is cancelled");
});

Deno.test("a body of declared length is read whole and cut once the sweep finds it overdue", async () => {
  const whole = new Request("http://x/", {
    method: "POST",
    body: "hello",
    headers: { "content-length": "5" },
  });
  setBodyDeadline(whole, performance.now() + 10_000);
  assert.equal(new TextDecoder().decode(await readBodyLimited(whole, 100)), "hello");

  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(new Uint8Array(3));
    },
  });
  const req = new Request("http://x/", {
    method: "POST",
    body,
    headers: { "content-length": "200" },
  });
  const deadline = performance.now() + 20;
  setBodyDeadline(req, deadline);
  const read = readBodyLimited(req, 4096);
  expireBodyReads(deadline - 1);
  let settled = false;
  read.then(() => settled = true, () => settled = true);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(settled, false, "not before its deadline");
  expireBodyReads();
  await assert.rejects(
    read,
    (e) =>
      e instanceof IncompleteBodyError && e.reason === "timeout" && e.status === 408 &&
      e.headers.connection === "close",
  );
  await body.cancel().catch(() => {});
});

Deno.test("a body that fails mid-read is an aborted upload (400), not our error", async () => {
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      ctl.error(new Error("connection reset"));
    },
  });
  const req = new Request("http://x/", { method: "POST", body });
  await assert.rejects(
    readBodyLimited(req, 4096),
    (e) => e instanceof IncompleteBodyError && e.reason === "aborted" && e.status === 400,
  );
});

Deno.test("a body that arrives before its deadline is read whole", async () => {
  const req = new Request("http://x/", { method: "POST", body: "hello" });
  setBodyDeadline(req, performance.now() + 10_000);
  assert.equal(new TextDecoder().decode(await readBodyLimited(req, 100)), "hello");
});
