import assert from "node:assert/strict";
import { LoginLimiter } from "./rate_limit.ts";

Deno.test("LoginLimiter allows maxAttempts at once per address, refilled over the window", () => {
  let now = 1_000_000;
  const lim = new LoginLimiter({ maxAttempts: 3, windowMs: 60_000, now: () => now });
  for (let i = 0; i < 3; i++) assert.deepEqual(lim.attempt("192.0.2.1"), { allowed: true });
  // One attempt comes back every windowMs / maxAttempts = 20 s.
  assert.deepEqual(lim.attempt("192.0.2.1"), { allowed: false, retryAfterSeconds: 20 });
  now += 10_000;
  assert.deepEqual(lim.attempt("192.0.2.1"), { allowed: false, retryAfterSeconds: 10 });
  assert.deepEqual(lim.attempt("192.0.2.2"), { allowed: true }, "other addresses are not affected");
  now += 10_000;
  assert.deepEqual(lim.attempt("192.0.2.1"), { allowed: true });
  assert.equal(lim.attempt("192.0.2.1").allowed, false);
  now += 60_000;
  for (let i = 0; i < 3; i++) assert.equal(lim.attempt("192.0.2.1").allowed, true, "refilled");
  // An IPv6 client counts by its /64.
  for (let i = 0; i < 3; i++) assert.equal(lim.attempt(`2001:db8::${i}`).allowed, true);
  assert.equal(lim.attempt("2001:db8::99").allowed, false);
});

Deno.test("LoginLimiter: a successful login clears the address", () => {
  const lim = new LoginLimiter({ maxAttempts: 2, now: () => 0 });
  lim.attempt("a");
  lim.attempt("a");
  assert.equal(lim.attempt("a").allowed, false);
  lim.succeeded("a");
  assert.equal(lim.attempt("a").allowed, true);
});

Deno.test("LoginLimiter caps all addresses together at ten times the per-address limit", () => {
  const lim = new LoginLimiter({ maxAttempts: 2, now: () => 0 });
  for (let i = 0; i < 20; i++) assert.equal(lim.attempt(`c${i}`).allowed, true);
  assert.equal(lim.attempt("fresh").allowed, false);
  // A successful login gives its attempts back to the total too.
  lim.succeeded("c0");
  assert.equal(lim.attempt("fresh").allowed, true);
});

Deno.test("LoginLimiter forgets the oldest addresses past maxClients", () => {
  const lim = new LoginLimiter({ maxAttempts: 100, maxClients: 5, now: () => 0 });
  for (let i = 0; i < 50; i++) lim.attempt(`c${i}`);
  assert.equal(lim.size, 5);
});

Deno.test("LoginLimiter rejects a bad maxAttempts", () => {
  assert.throws(() => new LoginLimiter({ maxAttempts: 0 }), /maxAttempts: expected a positive/);
});
