import assert from "node:assert/strict";
import {
  formatAgo,
  formatBytes,
  formatBytesExact,
  formatCount,
  formatDuration,
  formatRate,
  formatSeconds,
  formatTime,
} from "./format.ts";

Deno.test("formatBytes uses binary units with 2-3 significant digits", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(10 * 1024 ** 3), "10 GiB");
  assert.equal(formatBytes(123.4 * 1024 ** 2), "123 MiB");
});

Deno.test("formatCount, formatRate, formatDuration, formatTime, formatAgo", () => {
  assert.equal(formatCount(1234567), "1,234,567");
  assert.equal(formatRate(0), "0/s");
  assert.equal(formatRate(0.25), "0.25/s");
  assert.equal(formatRate(12.4), "12/s");
  assert.equal(formatRate(1234), "1.2k/s");
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59), "59s");
  assert.equal(formatDuration(3725), "1h 2m");
  assert.equal(formatDuration(90061), "1d 1h");
  assert.equal(formatTime(0), "1970-01-01 00:00:00");
  assert.equal(formatTime(null), "–");
  assert.equal(formatAgo(1000, 61000), "1m ago");
  assert.equal(formatAgo(null, 0), "never");
});

Deno.test("formatSeconds and formatBytesExact read as the forms accept them", () => {
  assert.equal(formatSeconds(604800), "7d");
  assert.equal(formatSeconds(2419200), "28d");
  assert.equal(formatSeconds(43200), "12h");
  assert.equal(formatSeconds(90), "90s");
  assert.equal(formatSeconds(0), "0s");
  assert.equal(formatBytesExact(10737418240), "10GiB");
  assert.equal(formatBytesExact(65536), "64KiB");
  assert.equal(formatBytesExact(1000), "1000B");
  assert.equal(formatBytesExact(1e10), "9.31 GiB");
});
