import assert from "node:assert/strict";
import { CAPTCHA_ALPHABET, CaptchaStore, drawCaptcha } from "./captcha.ts";

Deno.test("captcha: an SVG with one glyph path per character", () => {
  const svg = drawCaptcha("ab3k", { noise: 0 });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/<path fill=/g)?.length, 4);
});

Deno.test("captcha: right answer once, case-insensitive; wrong and repeated answers refused", () => {
  const store = new CaptchaStore({ ttlSeconds: 60 });
  const c = store.create("xy7q");
  assert.equal(store.check(c.id, " XY7Q "), true);
  assert.equal(store.check(c.id, "xy7q"), "unknown");
  const d = store.create("abcd");
  assert.equal(store.check(d.id, "abce"), "wrong");
  assert.equal(store.check(d.id, "abcd"), "unknown");
});

Deno.test("captcha: expiry and the outstanding bound", () => {
  let now = 1_000_000;
  const store = new CaptchaStore({ ttlSeconds: 10, maxOutstanding: 3, now: () => now });
  const a = store.create("aaaa");
  now += 10_000;
  assert.equal(store.check(a.id, "aaaa"), "expired");
  const ids = [1, 2, 3, 4].map(() => store.create("bbbb").id);
  assert.equal(store.size, 3);
  assert.equal(store.check(ids[0]!, "bbbb"), "unknown");
  assert.equal(store.check(ids[3]!, "bbbb"), true);
});

Deno.test("captcha: random answers use the alphabet and the length", () => {
  const store = new CaptchaStore({ ttlSeconds: 10, length: 6 });
  for (let i = 0; i < 50; i++) {
    const t = store.randomText();
    assert.equal(t.length, 6);
    for (const ch of t) assert.ok(CAPTCHA_ALPHABET.includes(ch));
  }
});
