import assert from "node:assert/strict";
import { addressKey, RateLimiter, saltedAddressKey } from "./rate_limit.ts";

Deno.test("addressKey: IPv4 whole, IPv6 by its /64, IPv4-mapped as IPv4, the rest unchanged", () => {
  assert.equal(addressKey("192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("2001:db8:0:1:aaaa::1"), "2001:db8:0:1::/64");
  assert.equal(addressKey("2001:0DB8:0000:0001:ffff:1:2:3"), "2001:db8:0:1::/64");
  assert.equal(addressKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressKey("[2001:db8::1]"), "2001:db8:0:0::/64");
  assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("::ffff:192.0.2.7"), "192.0.2.7");
  for (const other of ["localhost", "mem:node3", "1:2:3:4:5:6:7:8:9", "1::2::3", "1:2:3"]) {
    assert.equal(addressKey(other), other);
  }
});

Deno.test("RateLimiter: burst, refill, retryAfterSeconds, per key", () => {
  let now = 0;
  const rl = new RateLimiter({ ratePerSecond: 0.5, burst: 3, now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => rl.take("192.0.2.1")), [true, true, true, false]);
  assert.equal(rl.retryAfterSeconds("192.0.2.1"), 2);
  assert.equal(rl.retryAfterSeconds("192.0.2.2"), 0, "other keys are not affected");
  assert.equal(rl.take("192.0.2.2"), true);
  now += 1000; // half a token
  assert.equal(rl.take("192.0.2.1"), false);
  assert.equal(rl.retryAfterSeconds("192.0.2.1"), 1);
  now += 1000;
  assert.equal(rl.take("192.0.2.1"), true);
  assert.equal(rl.take("192.0.2.1"), false);
  // Taking n at once: all or nothing.
  now += 60_000;
  assert.equal(rl.take("192.0.2.1", 4), false);
  assert.equal(rl.take("192.0.2.1", 3), true);
  assert.equal(rl.retryAfterSeconds("192.0.2.1", 4), Infinity, "more than the burst never fits");
});

Deno.test("RateLimiter: an IPv6 /64 shares one budget; the next /64 has its own", () => {
  const rl = new RateLimiter({ ratePerSecond: 0, burst: 2, now: () => 0 });
  assert.equal(rl.take("2001:db8:0:1::1"), true);
  assert.equal(rl.take("2001:db8:0:1:ffff:ffff:ffff:ffff"), true);
  assert.equal(rl.take("2001:db8:0:1:1234::9"), false, "hopping inside the /64 does not help");
  assert.equal(rl.take("2001:db8:0:2::1"), true);
  assert.equal(rl.take("::ffff:192.0.2.7"), true);
  assert.equal(rl.take("192.0.2.7"), true);
  assert.equal(rl.take("192.0.2.7"), false, "IPv4-mapped IPv6 is the same client");
  // Exact keys are not grouped.
  const peers = new RateLimiter({ ratePerSecond: 0, burst: 1, keys: "exact", now: () => 0 });
  assert.equal(peers.take("2001:db8::1"), true);
  assert.equal(peers.take("2001:db8::2"), true);
  assert.equal(peers.digest("abc"), "abc");
});

Deno.test("RateLimiter: bounded, least recently used forgotten first, no clear addresses kept", () => {
  const rl = new RateLimiter({ ratePerSecond: 0, burst: 1, maxKeys: 2, now: () => 0 });
  rl.take("192.0.2.1");
  rl.take("192.0.2.2");
  rl.take("192.0.2.1"); // refused, but now the most recently used
  rl.take("192.0.2.3");
  assert.equal(rl.size, 2);
  assert.equal(rl.take("192.0.2.1"), false, "still remembered");
  assert.equal(rl.take("192.0.2.2"), true, "forgotten: a full bucket again");
  assert.notEqual(rl.digest("192.0.2.1"), "192.0.2.1");
  assert.ok(!rl.digest("192.0.2.1").includes("192"));
  assert.equal(rl.digest("2001:db8::1"), rl.digest("2001:db8::2"));
  const other = new RateLimiter({ ratePerSecond: 0, burst: 1 });
  assert.notEqual(other.digest("192.0.2.1"), rl.digest("192.0.2.1"), "salts differ per limiter");
  const keyOf = saltedAddressKey(() => new Uint8Array(32));
  assert.equal(keyOf("192.0.2.1"), saltedAddressKey(() => new Uint8Array(32))("192.0.2.1"));
  assert.equal(keyOf("192.0.2.1").length, 22);
});

Deno.test("RateLimiter: used, refund and forget", () => {
  let now = 0;
  const rl = new RateLimiter({ ratePerSecond: 1, burst: 5, now: () => now });
  rl.take("a", 4);
  assert.equal(rl.used("a"), 4);
  now += 1000;
  assert.equal(rl.used("a"), 3);
  rl.refund("a", 2);
  assert.equal(rl.used("a"), 1);
  rl.refund("a", 10);
  assert.equal(rl.used("a"), 0, "never above a full bucket");
  rl.take("a", 5);
  rl.forget("a");
  assert.equal(rl.used("a"), 0);
  assert.equal(rl.take("a", 5), true);
});

Deno.test("RateLimiter refuses nonsense options", () => {
  assert.throws(() => new RateLimiter({ ratePerSecond: -1, burst: 1 }), /ratePerSecond/);
  assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 0 }), /burst/);
  assert.throws(() => new RateLimiter({ ratePerSecond: NaN, burst: 1 }), /ratePerSecond/);
});
