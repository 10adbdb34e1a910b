import assert from "node:assert/strict";
import { LoginLimiter } from "./rate_limit.ts";

Deno.test("LoginLimiter allows maxAttempts per address per window, then says when to retry", () => {
  let now = 1_000_000;
  const lim = new LoginLimiter({ maxAttempts: 3, windowMs: 60_000, now: () => now });
  for (let i = 0; i < 3; i++) assert.deepEqual(lim.attempt("a"), { allowed: true });
  assert.deepEqual(lim.attempt("a"), { allowed: false, retryAfterSeconds: 60 });
  now += 30_000;
  assert.deepEqual(lim.attempt("a"), { allowed: false, retryAfterSeconds: 30 });
  assert.deepEqual(lim.attempt("b"), { allowed: true }, "other addresses are not affected");
  now += 30_000;
  assert.deepEqual(lim.attempt("a"), { allowed: true }, "a new window starts");
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
});

Deno.test("LoginLimiter forgets the oldest addresses past maxClients", () => {
  const lim = new LoginLimiter({ maxAttempts: 100, maxClients: 5, now: () => 0 });
  for (let i = 0; i < 50; i++) lim.attempt(`c${i}`);
  assert.equal(lim.size, 5);
});

Deno.test("LoginLimiter rejects a bad maxAttempts", () => {
  assert.throws(() => new LoginLimiter({ maxAttempts: 0 }), /maxAttempts: expected a positive/);
});
