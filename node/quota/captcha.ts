/**
 * Captchas for signup: SVG images drawn with `svg-captcha`'s glyph renderer (its
 * `ch-to-path` over the Comismsh font, embedded so the bundle needs no font file), single use
 * and expiring. Answers are kept only as SHA-256 hashes, in memory, up to a bound.
 *
 * @module
 */
import chToPath from "svg-captcha/lib/ch-to-path.js";
import * as opentypeNs from "opentype.js";
import { createHash } from "node:crypto";
import { CAPTCHA_FONT_BASE64 } from "./_captcha_font.ts";
import { defaultRandomBytes, fromBase64, type RandomBytes, toHex } from "../../client/mod.ts";
import { addressGroup } from "../edge/mod.ts";
import { HttpError } from "../errors.ts";

/** Characters a captcha uses: no 0/O, 1/l/I or other look-alikes. */
export const CAPTCHA_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

/** Options for {@linkcode CaptchaStore}. */
export interface CaptchaOptions {
  /** Seconds a captcha stays answerable. */
  ttlSeconds: number;
  /**
   * Most captchas outstanding at once (default 10,000). Past it expired ones are dropped and,
   * when none has expired, new captchas are refused with 503: an outstanding captcha is never
   * pushed out by someone else's.
   */
  maxOutstanding?: number;
  /**
   * Most captchas one client address may have outstanding (default 16); past it that address's
   * own oldest captcha is dropped.
   */
  maxPerAddress?: number;
  /** Characters per captcha (default 5). */
  length?: number;
  /** Clock, Unix ms. */
  now?: () => number;
  /** Randomness for ids and answers. */
  randomBytes?: RandomBytes;
}

/** A captcha handed to a client. */
export interface Captcha {
  /** Opaque id to send back with the answer. */
  id: string;
  /** The SVG image. */
  svg: string;
  /** Unix ms after which the answer is refused. */
  expiresAt: number;
}

/** Why an answer was refused. */
export type CaptchaFailure = "unknown" | "expired" | "wrong";

interface Pending {
  answerHash: string;
  expiresAt: number;
  address: string | undefined;
}

interface OpenTypeFont {
  ascender: number;
  descender: number;
}

interface Glyphs {
  font: unknown;
  ascender: number;
  descender: number;
}

let glyphs: Glyphs | undefined;

function loadFont(): Glyphs {
  if (glyphs === undefined) {
    const bytes = fromBase64(CAPTCHA_FONT_BASE64, "captcha font");
    // The runtime loads opentype.js's CommonJS build (exports on `default`), the bundler its ES
    // module (named exports): accept either.
    const ns = opentypeNs as unknown as {
      parse?: (b: ArrayBuffer) => OpenTypeFont;
      default?: { parse: (b: ArrayBuffer) => OpenTypeFont };
    };
    const parse = ns.parse ?? ns.default!.parse;
    const font = parse(bytes.buffer);
    glyphs = { font, ascender: font.ascender, descender: font.descender };
  }
  return glyphs;
}

/** SHA-256 (hex) of a normalized answer: what is kept instead of the answer. */
export const hashAnswer = (text: string): string =>
  createHash("sha256").update(text.trim().toLowerCase()).digest("hex");

const rnd = (min: number, max: number) => Math.round(min + Math.random() * (max - min));

/**
 * Draws `text` as an SVG in the style of `svg-captcha` (grey glyphs with jittered outlines,
 * curved noise lines, shuffled paint order). Cosmetic randomness uses `Math.random`; the
 * answer itself comes from the caller.
 */
export function drawCaptcha(
  text: string,
  opts: { width?: number; height?: number; noise?: number } = {},
): string {
  const { font, ascender, descender } = loadFont();
  const width = opts.width ?? 150;
  const height = opts.height ?? 50;
  const noise = opts.noise ?? 3;
  const paths: string[] = [];
  for (let i = 0; i < noise; i++) {
    const start = `${rnd(1, 21)} ${rnd(1, height - 1)}`;
    const end = `${rnd(width - 21, width - 1)} ${rnd(1, height - 1)}`;
    const mid1 = `${rnd(width / 2 - 21, width / 2 + 21)} ${rnd(1, height - 1)}`;
    const mid2 = `${rnd(width / 2 - 21, width / 2 + 21)} ${rnd(1, height - 1)}`;
    const grey = rnd(1, 9).toString(16);
    paths.push(
      `<path d="M${start} C${mid1},${mid2},${end}" stroke="#${grey}${grey}${grey}" fill="none"/>`,
    );
  }
  const spacing = (width - 2) / (text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const d = chToPath(text[i]!, {
      x: spacing * (i + 1),
      y: height / 2,
      fontSize: 56,
      font,
      ascender,
      descender,
    });
    const grey = rnd(0, 4).toString(16);
    paths.push(`<path fill="#${grey}${grey}${grey}" d="${d}"/>`);
  }
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [paths[i], paths[j]] = [paths[j]!, paths[i]!];
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0,0,${width},${height}">${
    paths.join("")
  }</svg>`;
}

/**
 * Issues and checks captchas. Each is answerable once: any attempt, right or wrong, uses it
 * up. State is in memory (a restart forgets outstanding captchas, which only costs a reload).
 *
 * @example
 * ```ts
 * const captchas = new CaptchaStore({ ttlSeconds: 300 });
 * const c = captchas.create();
 * captchas.check(c.id, "answer"); // "wrong" | "expired" | "unknown" | true
 * ```
 */
export class CaptchaStore {
  #pending = new Map<string, Pending>();
  #ttlMs: number;
  #max: number;
  #maxPerAddress: number;
  /** Outstanding ids per address group, oldest first. */
  #byAddress = new Map<string, string[]>();
  #length: number;
  #now: () => number;
  #random: RandomBytes;

  constructor(opts: CaptchaOptions) {
    this.#ttlMs = opts.ttlSeconds * 1000;
    this.#max = opts.maxOutstanding ?? 10_000;
    this.#maxPerAddress = opts.maxPerAddress ?? 16;
    this.#length = opts.length ?? 5;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.randomBytes ?? defaultRandomBytes;
  }

  /** Captchas outstanding. */
  get size(): number {
    return this.#pending.size;
  }

  /** A fresh random answer of the configured length. */
  randomText(): string {
    const out: string[] = [];
    const n = CAPTCHA_ALPHABET.length;
    while (out.length < this.#length) {
      for (const b of this.#random(16)) {
        // Rejection sampling keeps the choice uniform.
        if (b < 256 - (256 % n) && out.length < this.#length) out.push(CAPTCHA_ALPHABET[b % n]!);
      }
    }
    return out.join("");
  }

  /**
   * Creates a captcha for the client at `address` (its IP address; IPv6 counts by /64), which
   * bounds how many that client holds. `text` is for tests only. Throws 503 when the store is
   * full of unexpired captchas.
   */
  create(text: string = this.randomText(), address?: string): Captcha {
    const now = this.#now();
    this.#evict(now);
    const group = address === undefined ? undefined : addressGroup(address);
    if (group !== undefined) {
      const mine = this.#byAddress.get(group) ?? [];
      while (mine.length >= this.#maxPerAddress) this.#remove(mine[0]!);
    }
    if (this.#pending.size >= this.#max) {
      throw new HttpError(503, "Too many signups in progress; retry in a minute", {
        headers: { "retry-after": "60" },
      });
    }
    const id = toHex(this.#random(16));
    const expiresAt = now + this.#ttlMs;
    this.#pending.set(id, { answerHash: hashAnswer(text), expiresAt, address: group });
    if (group !== undefined) {
      const mine = this.#byAddress.get(group);
      if (mine === undefined) this.#byAddress.set(group, [id]);
      else mine.push(id);
    }
    return { id, svg: drawCaptcha(text), expiresAt };
  }

  /** Checks an answer (case-insensitive) and uses the captcha up. */
  check(id: string, answer: string): true | CaptchaFailure {
    const p = this.#pending.get(id);
    if (p === undefined) return "unknown";
    this.#remove(id);
    if (this.#now() >= p.expiresAt) return "expired";
    return hashAnswer(answer) === p.answerHash ? true : "wrong";
  }

  #remove(id: string): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if (p.address === undefined) return;
    const mine = this.#byAddress.get(p.address);
    if (mine === undefined) return;
    const i = mine.indexOf(id);
    if (i !== -1) mine.splice(i, 1);
    if (mine.length === 0) this.#byAddress.delete(p.address);
  }

  /** Drops expired captchas (they are in creation order, so the first unexpired one ends it). */
  #evict(now: number): void {
    for (const [id, p] of this.#pending) {
      if (p.expiresAt > now) break;
      this.#remove(id);
    }
  }
}
