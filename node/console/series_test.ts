import assert from "node:assert/strict";
import { type Reading, type Sample, Series } from "./series.ts";

function fakeSink() {
  const rows: Sample[] = [];
  return {
    rows,
    addSample(s: Sample) {
      rows.push(s);
      return Promise.resolve();
    },
    samplesSince(since: number) {
      return Promise.resolve(rows.filter((r) => r.at >= since));
    },
    pruneSamples(before: number) {
      for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.at < before) rows.splice(i, 1);
      return Promise.resolve();
    },
  };
}

function setup(start = 1_700_000_000_000) {
  let now = start;
  const reading: Reading = { acceptedTotal: 0, deliveredTotal: 0, usedBytes: 0, storedMessages: 0 };
  const sink = fakeSink();
  const series = new Series({
    read: () => ({ ...reading }),
    intervalMs: 10_000,
    sink,
    now: () => now,
  });
  return {
    series,
    sink,
    reading,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

Deno.test("Series turns counter deltas into per-second rates", async () => {
  const t = setup();
  const first = await t.series.tick();
  assert.equal(first.ingestPerSecond, 0);
  t.advance(10_000);
  t.reading.acceptedTotal = 50;
  t.reading.deliveredTotal = 20;
  t.reading.usedBytes = 4096;
  const s = await t.series.tick();
  assert.equal(s.ingestPerSecond, 5);
  assert.equal(s.deliveryPerSecond, 2);
  assert.equal(s.usedBytes, 4096);
});

Deno.test("Series treats a counter that went down as reset (restart), not a negative rate", async () => {
  const t = setup();
  t.reading.acceptedTotal = 1000;
  await t.series.tick();
  t.advance(10_000);
  t.reading.acceptedTotal = 30;
  const s = await t.series.tick();
  assert.equal(s.ingestPerSecond, 3);
});

Deno.test("Series keeps an hour at full resolution and a day of persisted minute averages", async () => {
  const t = setup(Date.UTC(2024, 0, 1));
  for (let i = 0; i < 6 * 90; i++) { // 90 minutes of 10-second samples at 6 messages/s
    t.reading.acceptedTotal += 60;
    await t.series.tick();
    t.advance(10_000);
  }
  await t.series.flush();
  const hour = t.series.window("hour");
  assert.ok(hour.length >= 355 && hour.length <= 361, `hour has ${hour.length} samples`);
  assert.ok(hour.every((s) => t.now - s.at <= 3_600_000));
  const day = t.series.window("day");
  assert.ok(day.length >= 89 && day.length <= 91, `day has ${day.length} samples`);
  // Minute averages skip the first (rate-less) sample, so every minute is exactly 6/s.
  assert.ok(day.slice(0, -1).every((s) => s.ingestPerSecond === 6), JSON.stringify(day[0]));
  assert.equal(t.sink.rows.length, 89);
  assert.ok(t.sink.rows.every((r) => r.at % 60_000 === 0));
});

Deno.test("Series.load restores the day chart after a restart", async () => {
  const t = setup(Date.UTC(2024, 0, 1));
  for (let i = 0; i < 6 * 10; i++) {
    t.reading.usedBytes += 100;
    await t.series.tick();
    t.advance(10_000);
  }
  await t.series.flush();
  const restarted = new Series({
    read: () => t.reading,
    intervalMs: 10_000,
    sink: t.sink,
    now: () => t.now,
  });
  await restarted.load();
  assert.equal(restarted.window("day").length, 9);
  // The hour window falls back to minute samples from before this process started.
  await restarted.tick();
  const hour = restarted.window("hour");
  assert.equal(hour.length, 10);
  assert.equal(hour[hour.length - 1]!.usedBytes, t.reading.usedBytes);
});

Deno.test("Series rejects a non-positive interval", () => {
  assert.throws(() => new Series({ read: () => ({} as Reading), intervalMs: 0 }), /intervalMs/);
});
