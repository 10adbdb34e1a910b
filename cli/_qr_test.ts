import assert from "node:assert/strict";
import { encodeQr, type QrCode, qrToTerminal } from "./_qr.ts";

const ZBARIMG = "/usr/bin/zbarimg";
const hasZbar = (() => {
  try {
    Deno.statSync(ZBARIMG);
    return true;
  } catch {
    console.warn(`SKIP QR decode tests: ${ZBARIMG} is missing (apt-get install -y zbar-tools)`);
    return false;
  }
})();

/** A plain PBM image of the code, 4 pixels per module, with the quiet zone. */
function pbm(qr: QrCode, scale = 4): string {
  const n = (qr.size + 8) * scale;
  const rows: string[] = [];
  for (let y = 0; y < n; y++) {
    const my = Math.floor(y / scale) - 4;
    let row = "";
    for (let x = 0; x < n; x++) {
      const mx = Math.floor(x / scale) - 4;
      const dark = mx >= 0 && my >= 0 && mx < qr.size && my < qr.size && qr.modules[my]![mx]!;
      row += dark ? "1 " : "0 ";
    }
    rows.push(row);
  }
  return `P1\n${n} ${n}\n${rows.join("\n")}\n`;
}

async function decode(qr: QrCode): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".pbm" });
  try {
    await Deno.writeTextFile(file, pbm(qr));
    const out = await new Deno.Command(ZBARIMG, { args: ["--raw", "-q", file] }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).replace(/\n$/, "");
  } finally {
    await Deno.remove(file);
  }
}

Deno.test({
  name: "QR codes of BIP21 URIs of many lengths decode with zbar to the same text",
  ignore: !hasZbar,
  async fn() {
    const uri = "bitcoin:bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu?amount=0.0001" +
      "&label=Subspace%20tokens&message=1000%20tokens%2C%20invoice%20abcdef01";
    const texts = [
      "a",
      "bitcoin:1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
      uri,
      uri + "&extra=" + "x".repeat(150),
      "bitcoin:tb1q?message=" + "y".repeat(400), // zbar guesses charsets: ASCII, as BIP21 is
    ];
    const versions = new Set<number>();
    for (const t of texts) {
      const qr = encodeQr(t);
      versions.add(qr.version);
      assert.equal(await decode(qr), t, `version ${qr.version}`);
    }
    assert.ok(versions.size >= 4, `versions ${[...versions]}`);
    assert.ok([...versions].some((v) => v >= 7), "a version with version bits");
  },
});

Deno.test("QR terminal rendering: half blocks, quiet zone, one line per two rows", () => {
  const qr = encodeQr("bitcoin:bc1q");
  const text = qrToTerminal(qr);
  const lines = text.split("\n");
  assert.equal(lines.length, Math.ceil((qr.size + 8) / 2));
  assert.ok(lines.every((l) => [...l].length === qr.size + 8));
  assert.equal(lines[0], "█".repeat(qr.size + 8));
  assert.throws(() => encodeQr("z".repeat(3000)), RangeError);
});
