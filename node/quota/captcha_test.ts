import assert from "node:assert/strict";
import { CAPTCHA_ALPHABET, CaptchaStore, drawCaptcha } from "./captcha.ts";
import { HttpError } from "../errors.ts";

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

Deno.test("captcha: expiry, and a full store refuses new captchas instead of dropping any", () => {
  let now = 1_000_000;
  const store = new CaptchaStore({ ttlSeconds: 10, maxOutstanding: 3, now: () => now });
  const a = store.create("aaaa");
  now += 10_000;
  assert.equal(store.check(a.id, "aaaa"), "expired");
  const ids = [1, 2, 3].map(() => store.create("bbbb").id);
  assert.equal(store.size, 3);
  assert.throws(
    () => store.create("bbbb"),
    (e: unknown) => e instanceof HttpError && e.status === 503,
  );
  assert.equal(store.check(ids[0]!, "bbbb"), true);
  now += 10_000;
  store.create("cccc");
  assert.equal(store.size, 1, "expired captchas make room");
});

Deno.test("captcha: one address cannot push out another's captcha", () => {
  const store = new CaptchaStore({ ttlSeconds: 600, maxPerAddress: 4 });
  const user = store.create("user", "198.51.100.9");
  for (let i = 0; i < 10_057; i++) store.create("spam", "203.0.113.5");
  assert.equal(store.size, 5);
  assert.equal(store.check(user.id, "user"), true);
});

Deno.test("captcha: an address keeps its newest captchas; IPv6 counts by /64", () => {
  const store = new CaptchaStore({ ttlSeconds: 600, maxPerAddress: 2 });
  const a = store.create("aaaa", "2001:db8:1:2::1");
  const b = store.create("bbbb", "2001:db8:1:2::2");
  const c = store.create("cccc", "2001:db8:1:2:ffff::3");
  const other = store.create("dddd", "2001:db8:1:3::1");
  assert.equal(store.check(a.id, "aaaa"), "unknown");
  assert.equal(store.check(b.id, "bbbb"), true);
  assert.equal(store.check(c.id, "cccc"), true);
  assert.equal(store.check(other.id, "dddd"), true);
  assert.equal(store.size, 0);
});

Deno.test("captcha: random answers use the alphabet and the length", () => {
  const store = new CaptchaStore({ ttlSeconds: 10, length: 6 });
  for (let i = 0; i < 50; i++) {
    const t = store.randomText();
    assert.equal(t.length, 6);
    for (const ch of t) assert.ok(CAPTCHA_ALPHABET.includes(ch));
  }
});
