/**
 * Anti-spam quota: captcha signup, accounts with a free quota per period, Privacy Pass token
 * issuance and redemption (RFC 9576/9577/9578, token type 0x0002, Blind RSA / RFC 9474), and
 * {@linkcode quotaFeature}, the node feature that serves it all. Other features reach it only
 * through the services in `services.ts` ({@linkcode ACCOUNT_CREDIT}, {@linkcode FREE_QUOTA}).
 *
 * @example
 * ```ts ignore
 * import { quotaFeature } from "./node/quota/mod.ts";
 * const node = await startNode(config, { features: [quotaFeature()] });
 * ```
 *
 * @module
 */
export {
  blind,
  BlindRsaError,
  blindSign,
  finalize,
  type RsaPublicKey,
  rsaPublicKey,
  verify,
} from "./blind_rsa.ts";
export { generateIssuerKey, type IssuerKey, IssuerKeyRing } from "./issuer_keys.ts";
export { SpentSet } from "./spent.ts";
export {
  type Account,
  AccountError,
  type QuotaPolicy,
  QuotaStore,
  type Reservation,
} from "./store.ts";
export {
  accountHash,
  IssueError,
  newAccountNumber,
  parseAccountNumber,
  type Redemption,
  TokenService,
} from "./tokens.ts";
export { type Captcha, CaptchaStore } from "./captcha.ts";
export {
  creditRefsMigration,
  invoiceXpubMigration,
  QUOTA_MIGRATIONS,
  quotaMigration,
} from "./migration.ts";
export { accountFromRequest, accountHashParam } from "./account_auth.ts";
export {
  ACCOUNT_CREDIT,
  type AccountCredit,
  FREE_QUOTA,
  FREE_QUOTA_FIELDS,
  type FreeQuota,
  type FreeQuotaValues,
} from "./services.ts";
export { quotaFeature, type QuotaFeatureOptions } from "./quota_feature.ts";
