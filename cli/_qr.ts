/**
 * A small QR code encoder (ISO/IEC 18004) for showing a BIP21 payment URI in the terminal: byte
 * mode, error correction level M, versions 1..40, the mask with the lowest penalty. It follows
 * the structure of Project Nayuki's reference implementation (MIT): data codewords, Reed-Solomon
 * blocks over GF(256) with polynomial 0x11D, interleaving, function patterns, zig-zag placement,
 * masking, format and version bits. `cli/_qr_test.ts` checks its output with a real decoder.
 *
 * @module
 */

/** ECC codewords per block, level M, by version (ISO/IEC 18004 Table 9). */
const ECC_PER_BLOCK = [
  -1,
  10,
  16,
  26,
  18,
  24,
  16,
  18,
  22,
  22,
  26,
  30,
  22,
  22,
  24,
  24,
  28,
  28,
  26,
  26,
  26,
  26,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
  28,
];
/** Error correction blocks, level M, by version (ISO/IEC 18004 Table 9). */
const NUM_BLOCKS = [
  -1,
  1,
  1,
  1,
  2,
  2,
  4,
  4,
  4,
  5,
  5,
  5,
  8,
  9,
  9,
  10,
  10,
  11,
  13,
  14,
  16,
  17,
  17,
  18,
  20,
  21,
  23,
  25,
  26,
  28,
  29,
  31,
  33,
  35,
  37,
  38,
  40,
  43,
  45,
  47,
  49,
];
/** Format bits of level M (binary 00). */
const ECL_BITS = 0;

function rawModules(ver: number): number {
  let r = (16 * ver + 128) * ver + 64;
  if (ver >= 2) {
    const n = Math.floor(ver / 7) + 2;
    r -= (25 * n - 10) * n - 55;
    if (ver >= 7) r -= 36;
  }
  return r;
}

function dataCodewords(ver: number): number {
  return Math.floor(rawModules(ver) / 8) - ECC_PER_BLOCK[ver]! * NUM_BLOCKS[ver]!;
}

function gfMul(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

function rsDivisor(degree: number): number[] {
  const result = new Array<number>(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      result[j] = gfMul(result[j]!, root);
      if (j + 1 < degree) result[j] = result[j]! ^ result[j + 1]!;
    }
    root = gfMul(root, 0x02);
  }
  return result;
}

function rsRemainder(data: readonly number[], divisor: readonly number[]): number[] {
  const result = new Array<number>(divisor.length).fill(0);
  for (const b of data) {
    const factor = b ^ result.shift()!;
    result.push(0);
    divisor.forEach((coef, i) => (result[i] = result[i]! ^ gfMul(coef, factor)));
  }
  return result;
}

/** A QR code: `size` × `size` modules, `true` is dark. */
export interface QrCode {
  /** Modules per side. */
  size: number;
  /** The version chosen (1..40). */
  version: number;
  /** Row-major modules. */
  modules: boolean[][];
}

/**
 * Encodes `text` (UTF-8, byte mode) at error correction level M in the smallest version that
 * fits.
 *
 * @example
 * ```ts
 * const qr = encodeQr("bitcoin:bc1q...?amount=0.0001");
 * ```
 * @throws {RangeError} when the text is longer than version 40 holds (2331 bytes).
 */
export function encodeQr(text: string): QrCode {
  const data = new TextEncoder().encode(text);
  let ver = 1;
  for (;; ver++) {
    if (ver > 40) throw new RangeError(`Cannot encode QR: ${data.length} bytes is too long`);
    const countBits = ver <= 9 ? 8 : 16;
    if (4 + countBits + data.length * 8 <= dataCodewords(ver) * 8) break;
  }
  // Data bits: mode 0100 (byte), count, bytes, terminator, padding.
  const bits: number[] = [];
  const push = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push((v >>> i) & 1);
  };
  push(0b0100, 4);
  push(data.length, ver <= 9 ? 8 : 16);
  for (const b of data) push(b, 8);
  const capacity = dataCodewords(ver) * 8;
  push(0, Math.min(4, capacity - bits.length));
  push(0, (8 - bits.length % 8) % 8);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) push(pad, 8);
  const words: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    words.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  }
  const codewords = addEcc(words, ver);
  return draw(codewords, ver);
}

function addEcc(data: number[], ver: number): number[] {
  const numBlocks = NUM_BLOCKS[ver]!;
  const eccLen = ECC_PER_BLOCK[ver]!;
  const raw = Math.floor(rawModules(ver) / 8);
  const numShort = numBlocks - raw % numBlocks;
  const shortLen = Math.floor(raw / numBlocks);
  const divisor = rsDivisor(eccLen);
  const blocks: number[][] = [];
  for (let i = 0, k = 0; i < numBlocks; i++) {
    const dat = data.slice(k, k + shortLen - eccLen + (i < numShort ? 0 : 1));
    k += dat.length;
    const ecc = rsRemainder(dat, divisor);
    if (i < numShort) dat.push(0);
    blocks.push([...dat, ...ecc]);
  }
  const out: number[] = [];
  for (let i = 0; i < blocks[0]!.length; i++) {
    blocks.forEach((b, j) => {
      if (i !== shortLen - eccLen || j >= numShort) out.push(b[i]!);
    });
  }
  return out;
}

function draw(codewords: number[], ver: number): QrCode {
  const size = ver * 4 + 17;
  const m: boolean[][] = Array.from({ length: size }, () => new Array(size).fill(false));
  const fn: boolean[][] = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (x: number, y: number, dark: boolean) => {
    m[y]![x] = dark;
    fn[y]![x] = true;
  };
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  const finder = (cx: number, cy: number) => {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        const x = cx + dx, y = cy + dy;
        if (x >= 0 && x < size && y >= 0 && y < size) set(x, y, d !== 2 && d !== 4);
      }
    }
  };
  finder(3, 3);
  finder(size - 4, 3);
  finder(3, size - 4);
  const align = alignmentPositions(ver);
  align.forEach((ay, i) =>
    align.forEach((ax, j) => {
      const corner = (i === 0 && j === 0) || (i === 0 && j === align.length - 1) ||
        (i === align.length - 1 && j === 0);
      if (corner) return;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          set(ax + dx, ay + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
        }
      }
    })
  );
  drawFormat(m, fn, size, 0, set); // reserve
  if (ver >= 7) {
    let rem = ver;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (ver << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) !== 0;
      const a = size - 11 + i % 3, b = Math.floor(i / 3);
      set(a, b, dark);
      set(b, a, dark);
    }
  }
  // Zig-zag placement of the codewords.
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - vert : vert;
        if (!fn[y]![x] && i < codewords.length * 8) {
          m[y]![x] = ((codewords[i >>> 3]! >>> (7 - (i & 7))) & 1) !== 0;
          i++;
        }
      }
    }
  }
  // The mask with the lowest penalty.
  let best = 0;
  let bestPenalty = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    applyMask(m, fn, size, mask);
    drawFormat(m, fn, size, mask, set);
    const p = penalty(m, size);
    if (p < bestPenalty) {
      best = mask;
      bestPenalty = p;
    }
    applyMask(m, fn, size, mask);
  }
  applyMask(m, fn, size, best);
  drawFormat(m, fn, size, best, set);
  return { size, version: ver, modules: m };
}

function alignmentPositions(ver: number): number[] {
  if (ver === 1) return [];
  const n = Math.floor(ver / 7) + 2;
  const step = Math.floor((ver * 8 + n * 3 + 5) / (n * 4 - 4)) * 2;
  const out = [6];
  for (let pos = ver * 4 + 10; out.length < n; pos -= step) out.splice(1, 0, pos);
  return out;
}

function drawFormat(
  _m: boolean[][],
  _fn: boolean[][],
  size: number,
  mask: number,
  set: (x: number, y: number, dark: boolean) => void,
): void {
  const data = (ECL_BITS << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  const bits = ((data << 10) | rem) ^ 0x5412;
  const bit = (i: number) => ((bits >>> i) & 1) !== 0;
  for (let i = 0; i <= 5; i++) set(8, i, bit(i));
  set(8, 7, bit(6));
  set(8, 8, bit(7));
  set(7, 8, bit(8));
  for (let i = 9; i < 15; i++) set(14 - i, 8, bit(i));
  for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(i));
  for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(i));
  set(8, size - 8, true);
}

function applyMask(m: boolean[][], fn: boolean[][], size: number, mask: number): void {
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let invert: boolean;
      switch (mask) {
        case 0:
          invert = (x + y) % 2 === 0;
          break;
        case 1:
          invert = y % 2 === 0;
          break;
        case 2:
          invert = x % 3 === 0;
          break;
        case 3:
          invert = (x + y) % 3 === 0;
          break;
        case 4:
          invert = (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0;
          break;
        case 5:
          invert = (x * y) % 2 + (x * y) % 3 === 0;
          break;
        case 6:
          invert = ((x * y) % 2 + (x * y) % 3) % 2 === 0;
          break;
        default:
          invert = ((x + y) % 2 + (x * y) % 3) % 2 === 0;
      }
      if (!fn[y]![x] && invert) m[y]![x] = !m[y]![x];
    }
  }
}

/** The standard's penalty score (rules N1..N4), lower is better. */
function penalty(m: boolean[][], size: number): number {
  let result = 0;
  const line = (get: (i: number) => boolean) => {
    let run = 0;
    let color = false;
    for (let i = 0; i < size; i++) {
      if (i > 0 && get(i) === color) {
        run++;
      } else {
        if (run >= 5) result += run - 2;
        color = get(i);
        run = 1;
      }
    }
    if (run >= 5) result += run - 2;
    // Finder-like 1:1:3:1:1 patterns with four light modules on a side.
    const pattern = [true, false, true, true, true, false, true];
    for (let i = 0; i + 7 <= size; i++) {
      if (!pattern.every((p, k) => get(i + k) === p)) continue;
      const lightBefore = i >= 4 && [1, 2, 3, 4].every((k) => !get(i - k));
      const lightAfter = i + 11 <= size && [7, 8, 9, 10].every((k) => !get(i + k));
      const edgeBefore = i < 4 && Array.from({ length: i }, (_, k) => k).every((k) => !get(k));
      const edgeAfter = i + 11 > size &&
        Array.from({ length: size - i - 7 }, (_, k) => i + 7 + k).every((k) => !get(k));
      if (lightBefore || lightAfter || edgeBefore || edgeAfter) result += 40;
    }
  };
  for (let y = 0; y < size; y++) line((x) => m[y]![x]!);
  for (let x = 0; x < size; x++) line((y) => m[y]![x]!);
  for (let y = 0; y < size - 1; y++) {
    for (let x = 0; x < size - 1; x++) {
      const c = m[y]![x];
      if (c === m[y]![x + 1] && c === m[y + 1]![x] && c === m[y + 1]![x + 1]) result += 3;
    }
  }
  const dark = m.reduce((a, row) => a + row.filter((v) => v).length, 0);
  const total = size * size;
  const k = Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1;
  result += Math.max(0, k) * 10;
  return result;
}

/**
 * Renders a QR code for a terminal: two modules per character with half blocks, dark modules as
 * the terminal's background, and the four-module quiet zone the standard asks for.
 */
export function qrToTerminal(qr: QrCode): string {
  const quiet = 4;
  const n = qr.size + quiet * 2;
  const dark = (x: number, y: number) => {
    const qx = x - quiet, qy = y - quiet;
    return qx >= 0 && qy >= 0 && qx < qr.size && qy < qr.size && qr.modules[qy]![qx]!;
  };
  const lines: string[] = [];
  for (let y = 0; y < n; y += 2) {
    let line = "";
    for (let x = 0; x < n; x++) {
      const top = dark(x, y), bottom = dark(x, y + 1);
      // Light modules are drawn (full block), dark ones left blank: readable on dark terminals.
      line += top && bottom ? " " : top ? "▄" : bottom ? "▀" : "█";
    }
    lines.push(line);
  }
  return lines.join("\n");
}
