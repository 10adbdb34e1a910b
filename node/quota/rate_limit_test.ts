import assert from "node:assert/strict";
import { addressKey, AddressRateLimiter } from "./rate_limit.ts";

Deno.test("addressKey: IPv4 whole, IPv6 by its /64", () => {
  assert.equal(addressKey("192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("2001:db8:0:1:aaaa::1"), "2001:db8:0:1::/64");
  assert.equal(addressKey("2001:0DB8:0000:0001:ffff:1:2:3"), "2001:db8:0:1::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
});

Deno.test("rate limiter: burst, refill, per-address, bounded, no clear addresses kept", () => {
  let now = 0;
  const rl = new AddressRateLimiter({ perHour: 3, maxKeys: 2, now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => rl.take("192.0.2.1")), [true, true, true, false]);
  assert.ok(rl.retryAfterSeconds("192.0.2.1") > 0);
  assert.equal(rl.take("2001:db8::1"), true);
  // Same /64: same budget.
  assert.equal(rl.take("2001:db8::2"), true);
  now += 20 * 60_000; // a third of an hour refills one attempt
  assert.equal(rl.take("192.0.2.1"), true);
  assert.equal(rl.take("192.0.2.1"), false);
  rl.take("198.51.100.9");
  assert.equal(rl.size, 2);
  assert.notEqual(rl.digest("192.0.2.1"), "192.0.2.1");
  assert.ok(!rl.digest("192.0.2.1").includes("192"));
  const other = new AddressRateLimiter({ perHour: 3 });
  assert.notEqual(other.digest("192.0.2.1"), rl.digest("192.0.2.1"));
});
