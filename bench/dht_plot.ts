/**
 * Draws docs/bench/dht_broadcast.svg from the Markdown that `bench/dht_sim.ts` writes
 * (`.tmp/dht_sim_<nodes>.md`): notice copies per node per notice for r = 1, 2, 3, with and
 * without 5% loss, before and after churn, against the r + 0.5 target.
 *
 *   deno run -A bench/dht_plot.ts .tmp/dht_sim_1000.md docs/bench/dht_broadcast.svg
 *
 * @module
 */
const [input = ".tmp/dht_sim_1000.md", output = "docs/bench/dht_broadcast.svg"] = Deno.args;
const rows = (await Deno.readTextFile(input)).split("\n")
  .filter((l) => /^\| (no churn|10% churn) \| r trees \|/.test(l))
  .map((l) => l.split("|").map((c) => c.trim()).filter((c) => c !== ""))
  .map((c) => ({
    churn: c[0]!,
    r: Number(c[2]),
    loss: c[3]!,
    coverage: c[4]!,
    copies: Number(c[5]),
  }));

const W = 640, H = 320, left = 50, bottom = 270, top = 30, maxY = 4;
const y = (v: number) => bottom - (v / maxY) * (bottom - top);
const colors: Record<string, string> = {
  "no churn 0%": "#4e79a7",
  "no churn 5%": "#a0cbe8",
  "10% churn 0%": "#f28e2b",
  "10% churn 5%": "#ffbe7d",
};
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${
    W / 2
  }" y="16" text-anchor="middle" font-size="13">Notice copies per node per notice (1,000 nodes)</text>`,
];
for (let v = 0; v <= maxY; v++) {
  parts.push(
    `<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
    `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
  );
}
const groupW = (W - left - 20) / 3;
for (const r of [1, 2, 3]) {
  const gx = left + (r - 1) * groupW + 15;
  const series = rows.filter((x) => x.r === r);
  const barW = (groupW - 40) / Math.max(1, series.length);
  series.forEach((s, i) => {
    const key = `${s.churn} ${s.loss}`;
    const x = gx + i * barW;
    parts.push(
      `<rect x="${x}" y="${y(s.copies)}" width="${barW - 3}" height="${
        bottom - y(s.copies)
      }" fill="${
        colors[key] ?? "#999"
      }"><title>${key}: ${s.copies} copies, coverage ${s.coverage}</title></rect>`,
      `<text x="${x + (barW - 3) / 2}" y="${
        y(s.copies) - 3
      }" text-anchor="middle">${s.copies}</text>`,
    );
  });
  const tx = gx + (groupW - 40) / 2;
  parts.push(
    `<line x1="${gx - 5}" x2="${gx + groupW - 35}" y1="${y(r + 0.5)}" y2="${
      y(r + 0.5)
    }" stroke="#c00" stroke-dasharray="4 3"/>`,
    `<text x="${tx}" y="${bottom + 16}" text-anchor="middle">r = ${r}</text>`,
  );
}
let lx = left;
for (const [key, color] of Object.entries(colors)) {
  parts.push(
    `<rect x="${lx}" y="${H - 22}" width="10" height="10" fill="${color}"/>`,
    `<text x="${lx + 14}" y="${H - 13}">${key} loss</text>`,
  );
  lx += 140;
}
parts.push(
  `<text x="${W - 12}" y="${top + 4}" text-anchor="end" fill="#c00">dashed: target r + 0.5</text>`,
  "</svg>",
);
await Deno.writeTextFile(output, parts.join("\n") + "\n");
console.log(`wrote ${output} (${rows.length} bars)`);
