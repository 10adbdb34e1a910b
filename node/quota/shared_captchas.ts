/**
 * Captchas kept in the quota database, for several node processes on one PostgreSQL database:
 * a wallet behind a load balancer may fetch its captcha from one process and answer at another.
 * The rules are those of {@linkcode CaptchaStore}: single use (the answer deletes the row, so two
 * processes cannot both accept it), an expiry, a bound per client address and in all.
 *
 * @module
 */
import type { Kysely } from "kysely";
import { defaultRandomBytes, toHex } from "../../client/mod.ts";
import { addressGroup } from "../edge/mod.ts";
import { HttpError } from "../errors.ts";
import {
  type Captcha,
  type CaptchaFailure,
  type CaptchaOptions,
  CaptchaStore,
  drawCaptcha,
  hashAnswer,
} from "./captcha.ts";

interface CaptchasTable {
  id: string;
  answer_hash: string;
  expires_at: number;
  address: string | null;
}

/** What the signup routes use: the in-memory {@linkcode CaptchaStore} or the shared one. */
export interface Captchas {
  /** Creates a captcha for the client at `address`; `text` is for tests only. */
  create(text?: string, address?: string): Captcha | Promise<Captcha>;
  /** Checks an answer and uses the captcha up. */
  check(id: string, answer: string): true | CaptchaFailure | Promise<true | CaptchaFailure>;
}

/**
 * Captchas in the `quota_captchas` table.
 *
 * @example
 * ```ts ignore
 * const captchas = new SharedCaptchas(fdb.db, { ttlSeconds: 300 });
 * const c = await captchas.create(undefined, "192.0.2.1");
 * await captchas.check(c.id, "answer"); // "wrong" | "expired" | "unknown" | true
 * ```
 */
export class SharedCaptchas implements Captchas {
  #db: Kysely<{ quota_captchas: CaptchasTable }>;
  #texts: CaptchaStore;
  #ttlMs: number;
  #max: number;
  #maxPerAddress: number;
  #now: () => number;
  #random;

  // deno-lint-ignore no-explicit-any
  constructor(db: Kysely<any>, opts: CaptchaOptions) {
    this.#db = db;
    this.#texts = new CaptchaStore(opts);
    this.#ttlMs = opts.ttlSeconds * 1000;
    this.#max = opts.maxOutstanding ?? 10_000;
    this.#maxPerAddress = opts.maxPerAddress ?? 16;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.randomBytes ?? defaultRandomBytes;
  }

  async create(text: string = this.#texts.randomText(), address?: string): Promise<Captcha> {
    const now = this.#now();
    const group = address === undefined ? null : addressGroup(address);
    await this.#db.deleteFrom("quota_captchas").where("expires_at", "<=", now).execute();
    if (group !== null) {
      // This address's oldest ones make room for the new one.
      const mine = await this.#db.selectFrom("quota_captchas").select("id")
        .where("address", "=", group).orderBy("expires_at", "desc")
        .offset(this.#maxPerAddress - 1).limit(1000).execute();
      if (mine.length > 0) {
        await this.#db.deleteFrom("quota_captchas").where("id", "in", mine.map((r) => r.id))
          .execute();
      }
    }
    const { n } = await this.#db.selectFrom("quota_captchas")
      .select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirstOrThrow();
    if (Number(n) >= this.#max) {
      throw new HttpError(503, "Too many signups in progress; retry in a minute", {
        headers: { "retry-after": "60" },
      });
    }
    const id = toHex(this.#random(16));
    const expiresAt = now + this.#ttlMs;
    await this.#db.insertInto("quota_captchas")
      .values({ id, answer_hash: hashAnswer(text), expires_at: expiresAt, address: group })
      .execute();
    return { id, svg: drawCaptcha(text), expiresAt };
  }

  async check(id: string, answer: string): Promise<true | CaptchaFailure> {
    const p = await this.#db.deleteFrom("quota_captchas").where("id", "=", id)
      .returning(["answer_hash", "expires_at"]).executeTakeFirst();
    if (p === undefined) return "unknown";
    if (this.#now() >= Number(p.expires_at)) return "expired";
    return hashAnswer(answer) === p.answer_hash ? true : "wrong";
  }
}
