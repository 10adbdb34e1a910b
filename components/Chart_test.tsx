import assert from "node:assert/strict";
import { render } from "preact-render-to-string";
import { Chart, niceScale } from "./Chart.tsx";

Deno.test("niceScale picks 1-2-5 steps in decimal and binary", () => {
  assert.deepEqual(niceScale(0, 10), { max: 1, step: 0.25 });
  assert.deepEqual(niceScale(7, 10), { max: 8, step: 2 });
  assert.deepEqual(niceScale(100, 10), { max: 100, step: 50 });
  assert.deepEqual(niceScale(3 * 1024 ** 2, 1024), { max: 3 * 1024 ** 2, step: 1024 ** 2 });
  assert.deepEqual(niceScale(1000, 1024), { max: 1024, step: 256 });
});

Deno.test("Chart renders a line per run of samples and breaks it at gaps", () => {
  const end = 10_000_000;
  const pts = [[end - 3_000_000, 1], [end - 2_990_000, 2], [end - 1_000_000, 3], [
    end - 990_000,
    4,
  ]] as const;
  const html = render(
    <Chart
      title="Ingest"
      points={pts}
      endAt={end}
      windowMs={3_600_000}
      format="rate"
      gapMs={30_000}
    />,
  );
  assert.equal(html.match(/class="line"/g)?.length, 2);
  assert.match(html, /<figcaption><span>Ingest<\/span><span class="chart-value">4\/s/);
  assert.match(html, /-1h/);
  assert.match(html, />now</);
});

Deno.test("Chart with one sample draws a dot, with none says so", () => {
  const one = render(
    <Chart title="S" points={[[5, 10]]} endAt={10} windowMs={100} format="bytes" gapMs={1} />,
  );
  assert.match(one, /<circle\s+class="dot"/);
  const none = render(
    <Chart title="S" points={[]} endAt={10} windowMs={100} format="bytes" gapMs={1} />,
  );
  assert.match(none, /no data yet/);
});
