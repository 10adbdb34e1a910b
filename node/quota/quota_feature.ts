/**
 * The quota feature: captcha signup, accounts with a free quota per period, Privacy Pass token
 * issuance, and (with `--quota tokens`) the policy that charges one token per
 * `POST /v1/messages`. It keeps its tables in its own database (`quota`), rotates issuer keys
 * and sweeps spent nonces of expired keys.
 *
 * Routes (docs/tokens.md):
 * - `GET /v1/captcha`, `POST /v1/accounts`, `GET|POST /signup` (`routes/signup.ts`)
 * - `GET /v1/account` (`routes/account.ts`)
 * - `GET /.well-known/private-token-issuer-directory`, `POST /v1/tokens` (`routes/tokens.ts`)
 * - `/admin/api/accounts...` (`routes/admin_accounts.ts`), `GET /admin/api/tokens`
 *   (`routes/admin_tokens.ts`), behind the core's one operator guard.
 *
 * Services it provides: {@linkcode QUOTA_POLICY} (only with `--quota tokens`),
 * {@linkcode ACCOUNT_CREDIT} and {@linkcode FREE_QUOTA} (for the fees feature), and the
 * console's `QUOTA_CONSOLE`.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import type { Feature, FeatureParts, NodeCore } from "../feature.ts";
import { QUOTA_POLICY } from "../services.ts";
import { QUOTA_CONSOLE } from "../console/mod.ts";
import { toBase64Url } from "../../client/mod.ts";
import { CaptchaStore } from "./captcha.ts";
import { type Captchas, SharedCaptchas } from "./shared_captchas.ts";
import { quotaConsole, tokenTally } from "./console.ts";
import { openFreeQuota } from "./free_quota.ts";
import { IssuerKeyRing } from "./issuer_keys.ts";
import { QUOTA_MIGRATIONS } from "./migration.ts";
import { AddressRateLimiter } from "./rate_limit.ts";
import { ACCOUNT_CREDIT, FREE_QUOTA } from "./services.ts";
import { SpentSet } from "./spent.ts";
import { QuotaStore } from "./store.ts";
import { tokenQuota } from "./token_quota.ts";
import { ISSUER_DIRECTORY_PATH } from "../../client/mod.ts";
import { TokenService } from "./tokens.ts";
import type { QuotaRoutesContext } from "./routes/_shared.ts";
import { accountRoutes } from "./routes/account.ts";
import { adminAccountRoutes } from "./routes/admin_accounts.ts";
import { adminTokenRoutes } from "./routes/admin_tokens.ts";
import { signupRoutes } from "./routes/signup.ts";
import { tokenRoutes } from "./routes/tokens.ts";

/** Options for {@linkcode quotaFeature}. */
export interface QuotaFeatureOptions {
  /** Issuer key generator (tests share one key to save time). */
  generateKey?: () => Promise<KeyObject>;
  /**
   * Every captcha gets this answer (tests). Without it, the environment variable
   * `SUBSPACE_TEST_CAPTCHA_ANSWER` does the same for tests of real node processes, with a
   * warning in the log; never set either in production.
   */
  captchaText?: string;
}

/** How often a process sharing a PostgreSQL database re-reads the issuer keys. */
const SHARED_KEYS_CHECK_MS = 30_000;

/** How often the per-day token tally is saved. */
const TALLY_SAVE_MS = 60_000;

/**
 * The quota feature.
 *
 * @example
 * ```ts ignore
 * const node = await startNode(config, { features: [quotaFeature(), feesFeature()] });
 * ```
 */
export function quotaFeature(opts: QuotaFeatureOptions = {}): Feature {
  return {
    name: "quota",
    install: (core) => install(core, opts),
  };
}

async function install(core: NodeCore, opts: QuotaFeatureOptions): Promise<FeatureParts> {
  const { config, metrics } = core;
  const log = core.log.child("quota");
  const now = () => core.now();
  const fdb = await core.openDatabase("quota", QUOTA_MIGRATIONS, { writerThread: true });
  const store = new QuotaStore(fdb.db, fdb.writer);
  // Several processes may share a PostgreSQL database: keys and captchas live in it there.
  const shared = fdb.dialect === "postgres";
  const ring = await IssuerKeyRing.open({
    dataDir: config.data,
    ...(shared
      ? { storage: { update: (fn) => store.updateSettingExclusive("issuer_keys", fn) } }
      : {}),
    rotationSeconds: config.issuerKeyRotation,
    overlapSeconds: config.issuerKeyOverlap,
    now,
    ...(opts.generateKey ? { generate: opts.generateKey } : {}),
  });
  const spent = new SpentSet(core.store);
  const moved = await store.moveSpentTo(core.store);
  if (moved > 0) log.info("moved spent nonces into the message store", { count: moved });
  const freeQuota = await openFreeQuota({
    store,
    defaults: { freeTokens: config.freeTokens, periodSeconds: config.quotaPeriod },
    onInvalid: (err) => log.warn("ignoring the saved free quota", { err }),
  });
  const tokens = new TokenService({
    ring,
    store,
    spent,
    issuerName: config.issuerName,
    policy: () => {
      const f = freeQuota.current();
      return { freeTokens: f.freeTokens, periodMs: f.periodSeconds * 1000 };
    },
    maxPerRequest: config.maxTokensPerRequest,
    now,
  });
  const captchaOptions = {
    ttlSeconds: config.captchaTtl,
    maxPerAddress: config.captchasPerAddress,
    now,
  };
  const captchas: Captchas = shared
    ? new SharedCaptchas(fdb.db, captchaOptions)
    : new CaptchaStore(captchaOptions);
  const signupLimiter = new AddressRateLimiter({ perHour: config.signupsPerHour, now });
  const fixedAnswer = opts.captchaText ?? Deno.env.get("SUBSPACE_TEST_CAPTCHA_ANSWER");
  if (opts.captchaText === undefined && fixedAnswer !== undefined) {
    log.warn("SUBSPACE_TEST_CAPTCHA_ANSWER is set: every captcha has the same answer (tests only)");
  }

  metrics.gauge("subspace_tokens_issued", "Tokens issued since start", () => tokens.stats.issued);
  metrics.gauge(
    "subspace_tokens_redeemed",
    "Tokens redeemed since start",
    () => tokens.stats.redeemed,
  );
  metrics.gauge(
    "subspace_tokens_refused",
    "Token redemptions refused since start",
    () => tokens.stats.refused,
  );
  const signups = metrics.counter("subspace_signups_total", "Accounts created by signup");

  if (config.quota === "tokens") core.provide(QUOTA_POLICY, tokenQuota(tokens));
  core.provide(ACCOUNT_CREDIT, {
    exists: async (hash) => (await store.getAccount(hash)) !== undefined,
    credit: (hash, n, reference) => store.creditOnce(hash, n, reference, now()),
  });
  core.provide(FREE_QUOTA, freeQuota);
  const tally = await tokenTally(store, tokens, now, shared);
  core.provide(QUOTA_CONSOLE, quotaConsole({ store, tokens, tally, log, now }));

  const q: QuotaRoutesContext = {
    config,
    log,
    now,
    store,
    tokens,
    ring,
    captchas,
    freeQuota,
    signupLimiter,
    signups,
    newCaptcha: (address) => captchas.create(fixedAnswer, address),
  };

  let maintenance: ReturnType<typeof setInterval> | undefined;
  let tallyTimer: ReturnType<typeof setInterval> | undefined;
  const saveTally = async () => {
    try {
      tally.tick();
      await tally.save();
    } catch (err) {
      log.warn("saving the token tally failed", { err });
    }
  };
  return {
    routes(app) {
      signupRoutes(app, q);
      accountRoutes(app, q);
      tokenRoutes(app, q);
      adminAccountRoutes(app, q);
      adminTokenRoutes(app, q);
    },
    info() {
      const free = freeQuota.current();
      return {
        tokens: {
          issuer_directory: ISSUER_DIRECTORY_PATH,
          issuer_name: config.issuerName,
          challenge: toBase64Url(tokens.challenge),
          free_tokens: free.freeTokens,
          quota_period_seconds: free.periodSeconds,
        },
      };
    },
    started() {
      maintenance = setInterval(async () => {
        try {
          // Shared keys: every process re-reads them; the first to find the signing key
          // retired rotates, under the settings lock, and the others adopt its new key.
          if (await ring.maintain()) log.info("issuer keys rotated", { keys: ring.keys().length });
          if (shared) await freeQuota.reload();
          if (!(await core.store.leads("quota-spent-sweep"))) return;
          const swept = await spent.sweep(now());
          if (swept > 0) log.info("swept spent nonces of expired keys", { count: swept });
        } catch (err) {
          log.error("quota maintenance failed", { err });
        }
      }, shared ? SHARED_KEYS_CHECK_MS : Math.min(config.issuerKeyRotation * 1000, 3_600_000) / 4);
      tallyTimer = setInterval(saveTally, TALLY_SAVE_MS);
    },
    async close() {
      clearInterval(maintenance);
      clearInterval(tallyTimer);
      await saveTally();
      await spent.drain();
    },
  };
}
