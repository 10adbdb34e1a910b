/**
 * The fees feature: the operator sells token bundles for bitcoin. Invoices get fresh
 * addresses derived from the operator's xpub; an Esplora-compatible backend tells when they
 * are paid; a paid invoice credits its account through the quota feature's
 * {@linkcode ACCOUNT_CREDIT} service. It also keeps the pricing page's settings (bundle price,
 * message limits, payment settings; the free quota stays the quota feature's).
 *
 * Needs the quota feature on the same node (the node refuses to start without it). Routes:
 * `routes.ts`. Tables: `migration.ts`, in the feature's own database `fees`.
 *
 * @module
 */
import { join } from "node:path";
import type { Feature, FeatureParts, NodeCore } from "../feature.ts";
import { PRICING_CONSOLE } from "../console/mod.ts";
import { ACCOUNT_CREDIT, type AccountCredit, FREE_QUOTA, type FreeQuota } from "../quota/mod.ts";
import { pricingConsole } from "./console.ts";
import { FeeSettings } from "./fee_settings.ts";
import { InvoiceService } from "./invoices.ts";
import { feesMigrations } from "./migration.ts";
import { feesRoutes } from "./routes.ts";
import { FeesStore } from "./store.ts";

/** Options for {@linkcode feesFeature}. */
export interface FeesFeatureOptions {
  /** `fetch` the Esplora client uses (tests). */
  esploraFetch?: typeof fetch;
  /**
   * With several processes on one PostgreSQL database: how often the saved pricing is re-read
   * (default {@linkcode SHARED_RELOAD_MS}; tests shorten it).
   */
  reloadMs?: number;
}

/**
 * The fees feature.
 *
 * @example
 * ```ts ignore
 * const node = await startNode(config, { features: [quotaFeature(), feesFeature()] });
 * ```
 */
export function feesFeature(opts: FeesFeatureOptions = {}): Feature {
  return { name: "fees", install: (core) => install(core, opts) };
}

/** How often a process sharing a PostgreSQL database re-reads the saved pricing. */
export const SHARED_RELOAD_MS = 30_000;

async function install(core: NodeCore, opts: FeesFeatureOptions): Promise<FeatureParts> {
  const { config } = core;
  const log = core.log.child("fees");
  const fdb = await core.openDatabase("fees", feesMigrations(join(config.data, "quota.db")));
  const store = new FeesStore(fdb.db);
  const settings = await FeeSettings.open({
    store,
    config,
    limits: core.limits,
    log,
    ...(opts.esploraFetch ? { esploraOptions: { fetch: opts.esploraFetch } } : {}),
  });

  // The quota feature's services answer once every feature is installed.
  let quota: { accounts: AccountCredit; freeQuota: FreeQuota } | undefined;
  const needQuota = () => {
    if (quota !== undefined) return quota;
    const accounts = core.service(ACCOUNT_CREDIT);
    const freeQuota = core.service(FREE_QUOTA);
    if (accounts === undefined || freeQuota === undefined) {
      throw new Error("Cannot start the fees feature: it needs the quota feature on this node");
    }
    return quota = { accounts, freeQuota };
  };
  const invoicesPaid = core.metrics.counter("subspace_invoices_paid_total", "Invoices paid");
  const invoices = new InvoiceService({
    store,
    accounts: {
      exists: (hash) => needQuota().accounts.exists(hash),
      credit: (hash, n, reference) => needQuota().accounts.credit(hash, n, reference),
    },
    ...settings.runtime(),
    invoiceTtlSeconds: config.invoiceTtl,
    pricing: () => settings.pricing(),
    now: () => core.now(),
    onPaid: (inv) => {
      invoicesPaid.inc();
      log.info("invoice paid", { invoice: inv.id, tokens: inv.tokens, sats: inv.receivedSats });
    },
    onError: (err) => log.warn("invoice check failed", { err }),
  });
  const backend = () => invoices.health();
  core.metrics.gauge(
    "subspace_payment_backend_configured",
    "1 when an Esplora backend URL is set (payments can be detected), else 0",
    () => backend().backend === "" ? 0 : 1,
  );
  core.metrics.gauge(
    "subspace_payment_backend_last_success_timestamp_seconds",
    "Unix time the payment backend last answered a poll (0: never since start)",
    () => Math.floor((backend().lastSuccessAt ?? 0) / 1000),
  );
  core.metrics.gauge(
    "subspace_payment_backend_last_error_timestamp_seconds",
    "Unix time a request to the payment backend last failed (0: never since start)",
    () => Math.floor((backend().lastErrorAt ?? 0) / 1000),
  );
  core.metrics.gauge(
    "subspace_payment_backend_lag_blocks",
    "Blocks the payment backend's tip is behind the highest tip seen",
    () => backend().lagBlocks ?? 0,
  );
  settings.onPaymentChange((rt) => {
    invoices.configure(rt);
    log.info("invoices follow the new payment settings", { fees_enabled: invoices.enabled });
  });
  core.provide(
    PRICING_CONSOLE,
    pricingConsole({ settings, invoices, store, freeQuota: () => needQuota().freeQuota }),
  );

  let reloadTimer: ReturnType<typeof setInterval> | undefined;
  return {
    routes(app) {
      const { accounts, freeQuota } = needQuota();
      feesRoutes(app, {
        settings,
        invoices,
        accounts,
        freeQuota,
        invoiceTtlSeconds: config.invoiceTtl,
      });
    },
    started() {
      // Several processes on one PostgreSQL database: follow what the operator saved at another.
      if (core.store.shared !== undefined) {
        reloadTimer = setInterval(() => {
          settings.reload().then((changed) => changed && log.info("pricing reloaded"))
            .catch((err) => log.warn("reloading the pricing failed", { err }));
        }, opts.reloadMs ?? SHARED_RELOAD_MS);
      }
      // Always polling: the operator may set the xpub and the backend later; a poll without a
      // backend only expires old invoices (and credits paid ones not yet credited).
      invoices.start(
        config.esploraPollInterval * 1000,
        () => core.store.leads("fees-invoice-poll"),
      );
    },
    async close() {
      clearInterval(reloadTimer);
      await invoices.stop();
    },
  };
}
