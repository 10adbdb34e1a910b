import assert from "node:assert/strict";
import { isPublicAddress, PeerAddressError, PeerAddressPolicy } from "./peer_address.ts";

Deno.test("isPublicAddress: public unicast only", () => {
  for (const ip of ["8.8.8.8", "1.1.1.1", "[2606:4700::1111]", "2a00:1450:4001::200e"]) {
    assert.equal(isPublicAddress(ip), true, ip);
  }
  for (
    const ip of [
      "127.0.0.1",
      "127.1.2.3",
      "10.0.0.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "[::1]",
      "::",
      "[::ffff:127.0.0.1]",
      "::ffff:10.0.0.1",
      "fe80::1",
      "fd00::1",
      "fc12::1",
      "ff02::1",
      "2001:db8::1",
      "64:ff9b::10.0.0.1",
      "not-an-ip",
      "1.2.3.256",
    ]
  ) {
    assert.equal(isPublicAddress(ip), false, ip);
  }
  assert.equal(isPublicAddress("172.15.0.1"), true);
  assert.equal(isPublicAddress("172.32.0.1"), true);
});

Deno.test("PeerAddressPolicy refuses private literals and names that resolve to them", async () => {
  const resolved: Record<string, string[]> = {
    "good.example": ["93.184.216.34"],
    "evil.example": ["93.184.216.34", "10.1.2.3"],
    "none.example": [],
  };
  const policy = new PeerAddressPolicy({
    allowPrivate: false,
    resolve: (h) => Promise.resolve(resolved[h] ?? []),
  });
  await policy.check("http://93.184.216.34:8080");
  await policy.check("https://good.example");
  for (
    const url of [
      "http://127.0.0.1:8080",
      "http://[::1]:8080",
      "http://localhost:8080",
      "http://evil.example",
      "http://none.example",
      "http://169.254.169.254",
    ]
  ) {
    await assert.rejects(policy.check(url), PeerAddressError, url);
  }
  await new PeerAddressPolicy({ allowPrivate: true }).check("http://127.0.0.1:1");
});
