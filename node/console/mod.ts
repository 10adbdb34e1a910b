/**
 * The operator console (`/console`) and the operator authentication the core's guard asks
 * about `/admin/...` and `/metrics`. Install it with {@linkcode consoleFeature} and the page
 * manifest beside `main.ts`; other features feed its pages by providing the services
 * {@linkcode NETWORK_CONSOLE}, {@linkcode QUOTA_CONSOLE}, {@linkcode PRICING_CONSOLE} and
 * {@linkcode PUBLIC_URL}.
 *
 * @example
 * ```ts ignore
 * import { NETWORK_CONSOLE } from "../console/mod.ts";
 * const federation: Feature = {
 *   name: "federation",
 *   install(core) {
 *     core.provide(NETWORK_CONSOLE, { view: () => routingTable.consoleView() });
 *     return {};
 *   },
 * };
 * ```
 *
 * @module
 */
import { SCHEMA } from "../config.ts";

export { consoleFeature, type ConsoleOptions, startupBanner } from "./feature.tsx";
export * from "./sources.ts";
export * from "./page.ts";
export type { OverviewData } from "./overview.ts";
export {
  type DatabaseFileView,
  type DiskView,
  type HealthCheck,
  type HealthReport,
  type HealthStatus,
  peerUp,
} from "./health.ts";
export {
  CONSOLE_MIGRATIONS,
  ConsoleState,
  type ConsoleTables,
  openConsoleState,
  type Sample,
  type SessionRecord,
  type StoredPassword,
} from "./state.ts";
export {
  checkPassword,
  DEFAULT_SCRYPT,
  generatePassword,
  hashPassword,
  PASSWORD_MIN_LENGTH,
  type ScryptParams,
  verifyPassword,
} from "./password.ts";
export {
  type ConfigSource,
  configSources,
  envName,
  flagName,
  parseBytes,
  parseDuration,
  redactedConfig,
} from "../config.ts";

/** A configuration key's description, as the settings page shows it. */
export interface ConfigFieldInfo {
  /** Value kind: "string", "int", "bytes", "duration", "bool", "list" or "enum". */
  kind: string;
  default: unknown;
  description: string;
  unit?: string;
  secret?: boolean;
}

/** Every configuration key with its default, unit and description. */
export function configSchema(): Record<string, ConfigFieldInfo> {
  return SCHEMA as unknown as Record<string, ConfigFieldInfo>;
}
