import assert from "node:assert/strict";
import { addressGroup } from "./address.ts";

Deno.test("addressGroup: IPv4 as is, IPv6 by /64, mapped IPv4 unwrapped", () => {
  assert.equal(addressGroup("192.0.2.7"), "192.0.2.7");
  assert.equal(addressGroup("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(addressGroup("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  assert.equal(addressGroup("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressGroup("::1"), "0:0:0:0::/64");
  assert.equal(addressGroup("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(addressGroup("[fe80::1%eth0]"), "fe80:0:0:0::/64");
  assert.notEqual(addressGroup("2001:db8:1:2::1"), addressGroup("2001:db8:1:3::1"));
});
