import assert from "node:assert/strict";
import { AddressRateLimiter } from "./rate_limit.ts";

Deno.test("signup limiter: perHour attempts at once, refilled over the hour, per /64", () => {
  let now = 0;
  const rl = new AddressRateLimiter({ perHour: 3, maxKeys: 2, now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => rl.take("192.0.2.1")), [true, true, true, false]);
  assert.equal(rl.retryAfterSeconds("192.0.2.1"), 1200);
  assert.equal(rl.take("2001:db8::1"), true);
  // Same /64: same budget.
  assert.equal(rl.take("2001:db8::2"), true);
  now += 20 * 60_000; // a third of an hour refills one attempt
  assert.equal(rl.take("192.0.2.1"), true);
  assert.equal(rl.take("192.0.2.1"), false);
  rl.take("198.51.100.9");
  assert.equal(rl.size, 2);
  // An unknown address is one client.
  assert.equal(rl.take(undefined), true);
  assert.equal(rl.retryAfterSeconds(undefined), 0);
});
