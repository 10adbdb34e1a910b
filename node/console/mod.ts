/**
 * The operator console (`/console`), `GET /metrics` and the authentication in front of
 * `/admin/...`. Install with `consolePlugin`; other features feed its pages through
 * {@linkcode consoleSources}.
 *
 * @example
 * ```ts ignore
 * import { consoleSources } from "../console/mod.ts";
 * consoleSources(ctx).network = { view: () => routingTable.consoleView() };
 * ```
 *
 * @module
 */
import { SCHEMA } from "../config.ts";

export { type ConsoleOptions, consolePlugin, createConsolePlugin } from "./plugin.tsx";
export * from "./sources.ts";
export * from "./page.ts";
export { ConsoleState, type Sample, type SessionRecord, type StoredPassword } from "./state.ts";
export {
  checkPassword,
  DEFAULT_SCRYPT,
  generatePassword,
  hashPassword,
  PASSWORD_MIN_LENGTH,
  type ScryptParams,
  verifyPassword,
} from "./password.ts";
export { envName, flagName, parseBytes, parseDuration, redactedConfig } from "../config.ts";

/** A configuration key's description, as the settings page shows it. */
export interface ConfigFieldInfo {
  default: unknown;
  description: string;
  unit?: string;
  secret?: boolean;
}

/** Every configuration key with its default, unit and description. */
export function configSchema(): Record<string, ConfigFieldInfo> {
  return SCHEMA as unknown as Record<string, ConfigFieldInfo>;
}
