import assert from "node:assert/strict";
import { DailyTally, utcDay } from "./daily.ts";

function memoryStore() {
  const m = new Map<string, string>();
  return {
    m,
    getSetting<T>(name: string) {
      const v = m.get(name);
      return Promise.resolve(v === undefined ? undefined : JSON.parse(v) as T);
    },
    setSetting(name: string, value: unknown) {
      m.set(name, JSON.stringify(value));
      return Promise.resolve();
    },
  };
}

Deno.test("DailyTally adds counter growth to the current UTC day and survives a restart", async () => {
  let now = Date.UTC(2024, 4, 1, 23, 59);
  let issued = 5;
  const store = memoryStore();
  const t = new DailyTally({ name: "tokens", store, now: () => now });
  await t.load();
  t.track("issued", () => issued);
  issued = 12;
  t.tick();
  now += 2 * 60_000; // past midnight
  issued = 20;
  t.tick();
  await t.save();
  assert.deepEqual(t.lastDays(2), [
    { day: "2024-05-01", totals: { issued: 7 } },
    { day: "2024-05-02", totals: { issued: 8 } },
  ]);
  // A restart: the process counter starts again at 0.
  issued = 0;
  const t2 = new DailyTally({ name: "tokens", store, now: () => now });
  await t2.load();
  t2.track("issued", () => issued);
  issued = 3;
  t2.tick();
  assert.deepEqual(t2.lastDays(1), [{ day: "2024-05-02", totals: { issued: 11 } }]);
});

Deno.test("DailyTally treats a counter that went down as reset and keeps keepDays days", async () => {
  let now = Date.UTC(2024, 0, 1);
  let v = 100;
  const store = memoryStore();
  const t = new DailyTally({ name: "x", store, keepDays: 3, now: () => now });
  t.track("c", () => v);
  for (let d = 0; d < 5; d++) {
    v = v > 50 ? 4 : v + 10; // reset to 4, then grow by 10 each day
    t.tick();
    await t.save();
    now += 86_400_000;
  }
  const saved = JSON.parse(store.m.get("x")!);
  assert.deepEqual(Object.keys(saved), ["2024-01-03", "2024-01-04", "2024-01-05"]);
  assert.equal(utcDay(Date.UTC(2024, 0, 1)), "2024-01-01");
});

Deno.test("DailyTally: processes sharing the setting add their growth instead of replacing it", async () => {
  const now = Date.UTC(2024, 4, 2, 12);
  const store = memoryStore();
  // Updates take turns, as under the database's advisory lock.
  let turn: Promise<void> = Promise.resolve();
  const shared = {
    ...store,
    updateSetting<T>(name: string, fn: (v: T | undefined) => Promise<T | undefined>) {
      turn = turn.then(async () => {
        const next = await fn(await store.getSetting<T>(name));
        if (next !== undefined) await store.setSetting(name, next);
      });
      return turn;
    },
  };
  const counts = [0, 0];
  const tallies = [0, 1].map((i) => {
    const t = new DailyTally({ name: "tokens", store: shared, now: () => now });
    t.track("issued", () => counts[i]!);
    return t;
  });
  counts[0] = 3;
  counts[1] = 5;
  for (const t of tallies) t.tick();
  await Promise.all(tallies.map((t) => t.save()));
  counts[0] = 4;
  tallies[0]!.tick();
  await tallies[0]!.save();
  const day = utcDay(now);
  assert.deepEqual(JSON.parse(store.m.get("tokens")!), { [day]: { issued: 9 } });
  assert.deepEqual(tallies[0]!.lastDays(1), [{ day, totals: { issued: 9 } }]);
});
