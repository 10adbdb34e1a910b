import assert from "node:assert/strict";
import { createLogger } from "./log.ts";

Deno.test("json lines: level, component, message, fields; errors as text", () => {
  const lines: string[] = [];
  const log = createLogger({ component: "api", sink: (l) => lines.push(l) });
  log.child("dht").warn("peer down", { url: "http://a.example", err: new RangeError("boom") });
  log.debug("not written at info");
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.level, "warn");
  assert.equal(rec.component, "dht");
  assert.equal(rec.msg, "peer down");
  assert.equal(rec.err, "RangeError: boom");
});

Deno.test("pretty lines: time, level, component: message, then key=value", () => {
  const lines: string[] = [];
  const log = createLogger({ component: "node", format: "pretty", sink: (l) => lines.push(l) });
  log.child("dht").info("joined", { contacts: 3, reason: "no answer", list: [1, 2] });
  assert.match(
    lines[0]!,
    /^\d\d:\d\d:\d\d INFO {2}dht: joined contacts=3 reason="no answer" list=\[1,2\]$/,
  );
});
