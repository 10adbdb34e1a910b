/**
 * What the quota routes share: the running parts of the quota feature, one object built at
 * install and handed to each route file.
 *
 * @module
 */
import type { Config } from "../../config.ts";
import { readJsonObject } from "../../body.ts";
import type { Logger } from "../../log.ts";
import type { Counter } from "../../metrics.ts";
import type { Captcha } from "../captcha.ts";
import type { Captchas } from "../shared_captchas.ts";
import type { IssuerKeyRing } from "../issuer_keys.ts";
import type { AddressRateLimiter } from "../rate_limit.ts";
import type { FreeQuota } from "../services.ts";
import type { QuotaStore } from "../store.ts";
import type { TokenService } from "../tokens.ts";

/** The quota feature's parts the routes use. */
export interface QuotaRoutesContext {
  config: Config;
  log: Logger;
  now(): number;
  store: QuotaStore;
  tokens: TokenService;
  ring: IssuerKeyRing;
  captchas: Captchas;
  freeQuota: FreeQuota;
  signupLimiter: AddressRateLimiter;
  /** `subspace_signups_total`. */
  signups: Counter;
  /** A new captcha (with the fixed test answer when one is configured). */
  newCaptcha(address: string | undefined): Captcha | Promise<Captcha>;
}

/** Largest JSON body the quota routes read. */
export const JSON_BODY_BYTES = 1024 * 1024;

/** Reads a JSON object body of at most {@linkcode JSON_BODY_BYTES}. */
export function readJson(req: Request): Promise<Record<string, unknown>> {
  return readJsonObject(req, JSON_BODY_BYTES);
}
