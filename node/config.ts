/**
 * The node's configuration: one schema with a default, unit and description per key.
 * Sources, lowest to highest precedence: defaults < config file (JSON) < `SUBSPACE_*`
 * environment variables < command-line flags. Every invalid value is reported at once.
 * `docs/config.md` is generated from {@linkcode SCHEMA} (`deno task docs`).
 *
 * @module
 */
import { type FlagArity, tokenizeArgv } from "./argv.ts";

type Kind = "string" | "int" | "bytes" | "duration" | "bool" | "list" | "enum";

interface Field<K extends Kind, T> {
  kind: K;
  default: T;
  /** Unit shown in docs: "bytes", "seconds", "requests/s", ... */
  unit?: string;
  description: string;
  /** Allowed values for enums. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Redacted in logs, `/v1/info` and the console's settings page. */
  secret?: boolean;
  /** Checks a set value (each item of a list); throws a `RangeError` saying what is wrong. */
  check?: (value: string) => void;
}

/**
 * Checks that `text` is a bare http(s) origin such as `https://node.example:8443` (no path,
 * query, fragment or credentials), as `--bootstrap` and `--public-url` need.
 *
 * @example
 * ```ts
 * checkOriginUrl("https://node.example"); // ok
 * checkOriginUrl("127.0.0.1:18080"); // throws RangeError
 * ```
 */
export function checkOriginUrl(text: string): void {
  checkHttpUrl(text);
  const u = new URL(text);
  if (u.username || u.password || u.search || u.hash || /[?#@]/.test(text) || u.pathname !== "/") {
    throw new RangeError(
      `expected a bare origin like https://node.example:8080 (no path, query or credentials), got '${
        text.slice(0, 80)
      }'`,
    );
  }
}

/** Checks that `text` is an absolute http:// or https:// URL. */
export function checkHttpUrl(text: string): void {
  let u: URL | undefined;
  try {
    u = new URL(text);
  } catch { /* reported below */ }
  if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) {
    throw new RangeError(
      `expected an http:// or https:// URL, got '${text.slice(0, 80)}'${
        /^[\w.-]+:\d+$/.test(text) ? ` (did you mean http://${text.slice(0, 80)}?)` : ""
      }`,
    );
  }
}

const str = (f: Omit<Field<"string", string>, "kind">) => ({ kind: "string" as const, ...f });
const optStr = (f: Omit<Field<"string", string | undefined>, "kind">) => ({
  kind: "string" as const,
  ...f,
});
const int = (f: Omit<Field<"int", number>, "kind">) => ({ kind: "int" as const, ...f });
const bytes = (f: Omit<Field<"bytes", number>, "kind">) => ({
  kind: "bytes" as const,
  unit: "bytes",
  ...f,
});
const duration = (f: Omit<Field<"duration", number>, "kind">) => ({
  kind: "duration" as const,
  unit: "seconds",
  ...f,
});
const bool = (f: Omit<Field<"bool", boolean>, "kind">) => ({ kind: "bool" as const, ...f });
const list = (f: Omit<Field<"list", string[]>, "kind">) => ({ kind: "list" as const, ...f });
const oneOf = <V extends string>(values: readonly V[], f: Omit<Field<"enum", V>, "kind">) => ({
  kind: "enum" as const,
  values,
  ...f,
});

/** Field builders, for features that add keys to {@linkcode SCHEMA}. */
export const field = { str, optStr, int, bytes, duration, bool, list, oneOf };

/** Every configuration key. Flags are the kebab-case names; env vars `SUBSPACE_<UPPER_SNAKE>`. */
export const SCHEMA = {
  config: optStr({
    default: undefined,
    description: "Path of a JSON config file (kebab-case keys).",
  }),
  host: str({ default: "127.0.0.1", description: "Address to listen on." }),
  port: int({ default: 8080, min: 0, max: 65535, description: "TCP port (0 picks a free one)." }),
  data: str({
    default: "./data",
    description: "Data folder: SQLite database, node and issuer keys.",
  }),
  store: optStr({
    default: undefined,
    description:
      "Message store. Empty: embedded SQLite under --data. A postgres:// URL: PostgreSQL.",
    secret: true,
  }),
  quota: oneOf(["open", "tokens"] as const, {
    default: "tokens",
    description:
      "How POST /v1/messages is paid for: tokens asks one Privacy Pass token per message (docs/tokens.md); open accepts every message.",
  }),
  maxPayloadBytes: bytes({
    default: 65536,
    min: 1,
    max: 16 * 1024 * 1024,
    description: "Largest accepted message payload (decoded).",
  }),
  defaultTtl: duration({
    default: 7 * 86400,
    min: 1,
    description: "TTL of a message that names none.",
  }),
  maxTtl: duration({
    default: 28 * 86400,
    min: 1,
    description: "Longest TTL a message may ask for.",
  }),
  maxStoreBytes: bytes({
    default: 10 * 1024 ** 3,
    min: 1,
    description: "Storage cap; past it new messages get 507 and nothing stored is lost.",
  }),
  tlsCert: optStr({
    default: undefined,
    description: "PEM certificate file: serve HTTPS directly.",
  }),
  tlsKey: optStr({ default: undefined, description: "PEM private key file for --tls-cert." }),
  corsOrigins: list({
    default: ["*"],
    description:
      "Origins whose browser pages may call the wallet API (/v1/*, the token issuer directory): * for any (the API uses no cookies), comma-separated origins such as https://wallet.example, or empty for none. Never applies to /console, /admin or /metrics.",
  }),
  logLevel: oneOf(["debug", "info", "warn", "error"] as const, {
    default: "info",
    description: "Least severe log level written.",
  }),
  logFormat: oneOf(["auto", "json", "pretty"] as const, {
    default: "auto",
    description:
      "Log lines as JSON (for collectors) or pretty (short lines for people); auto: pretty when stderr is a terminal, else json.",
  }),
  rateLimit: int({
    default: 200,
    min: 1,
    unit: "requests/s",
    description: "Sustained request rate allowed per client address.",
  }),
  rateBurst: int({
    default: 400,
    min: 1,
    unit: "requests",
    description: "Burst of requests allowed per client address.",
  }),
  maxClientConnections: int({
    default: 64,
    min: 1,
    unit: "requests",
    description: "Requests (open connections) one client address may have in flight at once.",
  }),
  maxConnections: int({
    default: 4096,
    min: 1,
    unit: "requests",
    description: "Requests in flight across all clients; past it new ones get 503.",
  }),
  headersTimeout: duration({
    default: 10,
    min: 1,
    max: 3600,
    description:
      "Time a client has from connecting until its first request's headers are complete; past it the connection is closed.",
  }),
  bodyTimeout: duration({
    default: 30,
    min: 1,
    max: 3600,
    description:
      "Time a client has to send a request body once its headers arrived; past it 408 and the connection is closed.",
  }),
  keepAliveTimeout: duration({
    default: 5,
    min: 1,
    max: 3600,
    description:
      "Time an idle keep-alive connection may wait for the next request's headers before it is closed.",
  }),
  maxAddressConnections: int({
    default: 256,
    min: 1,
    unit: "connections",
    description:
      "Open TCP connections one client address may hold; more are closed at accept, before any parsing.",
  }),
  maxOpenConnections: int({
    default: 16384,
    min: 1,
    unit: "connections",
    description:
      "Open TCP connections in all; more are closed at accept. Lowered at start to fit the file descriptor limit (soft RLIMIT_NOFILE minus descriptors open minus 64), which the node raises toward the hard limit where it may.",
  }),
  maxWaiters: int({
    default: 2048,
    min: 0,
    unit: "requests",
    description: "Long polls waiting at once; past it new ones get 503 with Retry-After.",
  }),
  maxWait: duration({ default: 60, min: 0, max: 3600, description: "Longest long-poll wait." }),
  commitMaxBatch: int({
    default: 512,
    min: 1,
    unit: "messages",
    description: "Most messages one group commit writes.",
  }),
  commitMaxQueue: int({
    default: 20000,
    min: 1,
    unit: "messages",
    description: "Messages waiting for the writer; past it POSTs get 503.",
  }),
  sweepInterval: duration({
    default: 60,
    min: 1,
    description: "How often expired messages are deleted.",
  }),
  adminToken: optStr({
    default: undefined,
    description:
      "Bearer token for scripts: `Authorization: Bearer <token>` on /admin/api/... and /metrics.",
    secret: true,
  }),
  consoleSessionTtl: duration({
    default: 12 * 3600,
    min: 60,
    description: "How long an operator console login lasts.",
  }),
  consoleLoginAttempts: int({
    default: 10,
    min: 1,
    unit: "attempts per 15 minutes",
    description: "Failed console logins allowed per client address (and 10x that in total).",
  }),
  consoleSampleInterval: duration({
    default: 10,
    min: 1,
    max: 60,
    description: "How often the console samples metrics for its charts.",
  }),
  // Tokens, signup and fees (issue 5; docs/tokens.md).
  issuerName: str({
    default: "subspace.local",
    description:
      "Issuer name in token challenges (RFC 9577), a server name. Changing it voids unspent tokens.",
  }),
  issuerKeyRotation: duration({
    default: 30 * 86400,
    min: 60,
    description: "How long an issuer key signs new tokens before a new key takes over.",
  }),
  issuerKeyOverlap: duration({
    default: 30 * 86400,
    min: 0,
    description:
      "How long a retired issuer key still accepts its tokens (spent nonces kept as long).",
  }),
  freeTokens: int({
    default: 100,
    min: 0,
    unit: "tokens",
    description: "Free tokens per account per quota period (the console can change it).",
  }),
  quotaPeriod: duration({
    default: 86400,
    min: 60,
    description: "Length of the free-quota period.",
  }),
  maxTokensPerRequest: int({
    default: 100,
    min: 1,
    max: 10000,
    unit: "tokens",
    description: "Most tokens one POST /v1/tokens may ask for.",
  }),
  captchaTtl: duration({
    default: 600,
    min: 10,
    description: "How long a signup captcha is valid.",
  }),
  captchasPerAddress: int({
    default: 16,
    min: 1,
    unit: "captchas",
    description:
      "Signup captchas one client address (IPv6: its /64) may have outstanding; past it its own oldest is dropped.",
  }),
  signupsPerHour: int({
    default: 10,
    min: 1,
    unit: "attempts/hour",
    description: "Signup attempts per client address (kept as a salted hash, never in the clear).",
  }),
  tokensPerBundle: int({
    default: 1000,
    min: 1,
    unit: "tokens",
    description: "Tokens in one bundle sold by invoice.",
  }),
  bundlePriceSats: int({
    default: 0,
    min: 0,
    unit: "sats",
    description: "Price of one bundle; 0 sells nothing.",
  }),
  feeXpub: optStr({
    default: undefined,
    description:
      "Account xpub/ypub/zpub (or tpub/upub/vpub) whose receive addresses invoices use. Initial value: the console (or PUT /admin/api/pricing) changes it at run time.",
  }),
  feeAddressType: oneOf(["auto", "p2pkh", "p2sh-p2wpkh", "p2wpkh"] as const, {
    default: "auto",
    description: "Invoice address type; auto follows the key prefix (xpub p2pkh, ypub, zpub).",
  }),
  feeNetwork: oneOf(["auto", "mainnet", "testnet", "regtest"] as const, {
    default: "auto",
    description: "Bitcoin network of invoice addresses; auto follows the key prefix.",
  }),
  esploraUrl: optStr({
    default: undefined,
    check: checkHttpUrl,
    description:
      "Esplora-compatible API base URL used to detect invoice payments. Initial value: the console changes it at run time.",
  }),
  confirmations: int({
    default: 1,
    min: 0,
    max: 100,
    unit: "blocks",
    description:
      "Confirmations an invoice payment needs (0 accepts mempool transactions). Initial value: the console changes it at run time.",
  }),
  invoiceTtl: duration({
    default: 3600,
    min: 60,
    description: "How long an invoice quote is valid.",
  }),
  esploraPollInterval: duration({
    default: 30,
    min: 1,
    description: "How often pending invoices are checked.",
  }),
  operatorContact: optStr({
    default: undefined,
    description:
      "How people reach the operator (an email address or a URL), shown on the public page at /.",
  }),
  // Federation (issue 4; docs/federation.md).
  publicUrl: optStr({
    default: undefined,
    check: checkOriginUrl,
    description: "URL peers use to reach this node (default: the URL it listens on).",
  }),
  bootstrap: list({
    default: [],
    check: checkOriginUrl,
    description: "Peers to join the network through: comma-separated base URLs.",
  }),
  replicate: oneOf(["none", "fetched", "all"] as const, {
    default: "fetched",
    description:
      "Which remote message bodies to keep and serve as a provider: none, those fetched for a wallet, or all.",
  }),
  replicateMaxBytes: bytes({
    default: 1024 ** 3,
    min: 0,
    description: "Byte budget for kept copies of remote message bodies.",
  }),
  follow: oneOf(["wallets", "all"] as const, {
    default: "wallets",
    description:
      "Which notices become rows here: those in regions this node's wallets watch (subscribed at the servers responsible for them), or all (archives; costs the whole network's traffic).",
  }),
  noticeReplicas: int({
    default: 3,
    min: 1,
    max: 20,
    description: "Servers each notice is stored at: the ones whose ids are closest to its tag.",
  }),
  followMinBits: int({
    default: 0,
    min: 0,
    max: 160,
    description:
      "Shortest prefix (bits) this node follows for wallets; wallets asking with fewer bits get 422. A 0-bit wallet costs the whole network's notices.",
  }),
  subscribeBitsMax: int({
    default: 24,
    min: 0,
    max: 160,
    description:
      "Most prefix bits a subscription reveals to other servers: wallets asking with more bits are subscribed at this many (more notices, more privacy).",
  }),
  dhtRangeLimits: bool({
    default: true,
    description:
      "Limit routing-table contacts per address range (/24, /64); turn off for many nodes on one host.",
  }),
  maxNoticeBytes: bytes({
    default: 1024 ** 3,
    min: 0,
    description:
      "Cap on the bytes of other servers' notices held (the DHT's notice table); past it new notices are refused.",
  }),
  dhtPrivatePeers: bool({
    default: false,
    description:
      "Send DHT requests to peers on loopback, private and link-local addresses (test networks, private federations).",
  }),
} as const;

type Schema = typeof SCHEMA;
type ValueOf<F> = F extends { kind: "int" | "bytes" | "duration" } ? number
  : F extends { kind: "bool" } ? boolean
  : F extends { kind: "list" } ? string[]
  : F extends { kind: "enum"; default: infer D } ? D
  : F extends { kind: "string"; default: infer D } ? D
  : never;

/** A validated configuration. */
export type Config = { -readonly [K in keyof Schema]: ValueOf<Schema[K]> };

/** Raised when the configuration is invalid; `errors` lists every problem. */
export class ConfigError extends Error {
  /** One line per problem. */
  readonly errors: string[];
  constructor(errors: string[]) {
    super(`Invalid configuration:\n  ${errors.join("\n  ")}`);
    this.name = "ConfigError";
    this.errors = errors;
  }
}

/** camelCase key → kebab-case flag name. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** camelCase key → `SUBSPACE_UPPER_SNAKE` environment variable name. */
export function envName(key: string): string {
  return "SUBSPACE_" + flagName(key).replace(/-/g, "_").toUpperCase();
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const DURATIONS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses a size like `65536`, `64KiB` or `10GB` into bytes.
 *
 * @example
 * ```ts
 * parseBytes("64KiB"); // 65536
 * ```
 */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const mult = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || mult === undefined) {
    throw new RangeError(`expected a size like 65536, 64KiB or 10GB, got '${text}'`);
  }
  return Math.floor(Number(m[1]) * mult);
}

/**
 * Parses a duration like `3600`, `90s`, `15m`, `7d` into seconds.
 *
 * @example
 * ```ts
 * parseDuration("7d"); // 604800
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/.exec(text);
  if (!m) throw new RangeError(`expected a duration like 3600, 90s, 15m, 12h or 7d, got '${text}'`);
  return Math.floor(Number(m[1]) * DURATIONS[m[2]!]!);
}

type AnyField = Field<Kind, unknown>;

function coerce(field: AnyField, raw: unknown): unknown {
  if (raw === undefined || raw === null) return field.default;
  switch (field.kind) {
    case "string":
      if (typeof raw !== "string") throw new TypeError(`expected a string`);
      return raw === "" ? field.default : raw;
    case "int": {
      const n = typeof raw === "number" ? raw : /^-?\d+$/.test(String(raw)) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw new TypeError(`expected an integer, got '${raw}'`);
      return n;
    }
    case "bytes":
      return typeof raw === "number" ? raw : parseBytes(String(raw));
    case "duration":
      return typeof raw === "number" ? raw : parseDuration(String(raw));
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (/^(true|1|yes|on)$/i.test(String(raw))) return true;
      if (/^(false|0|no|off)$/i.test(String(raw))) return false;
      throw new TypeError(`expected true or false, got '${raw}'`);
    case "list":
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw).split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "enum":
      if (!field.values!.includes(String(raw))) {
        throw new TypeError(`expected one of ${field.values!.join(", ")}, got '${raw}'`);
      }
      return String(raw);
  }
}

/** Where configuration values come from. */
export interface ConfigSources {
  /** Command-line arguments (flags only). */
  args?: readonly string[];
  /** Environment variables. */
  env?: Record<string, string | undefined>;
  /** Reads a config file; defaults to `Deno.readTextFileSync`. */
  readFile?: (path: string) => string;
}

/**
 * Builds a {@linkcode Config} from defaults, file, environment and flags, or throws a
 * {@linkcode ConfigError} listing every problem.
 *
 * @example
 * ```ts
 * const cfg = loadConfig({ args: ["--port", "0"], env: {} });
 * cfg.port; // 0
 * ```
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const errors: string[] = [];
  const fields = SCHEMA as unknown as Record<string, AnyField>;
  const byFlag = new Map(Object.keys(fields).map((k) => [flagName(k), k]));
  const raw: Record<string, { value: unknown; from: string; source?: ConfigSource }> = {};

  // Flags.
  const flagValues: Record<string, { value: unknown; from: string; source?: ConfigSource }> = {};
  const arity = (name: string): FlagArity | undefined => {
    const key = byFlag.get(name);
    return key === undefined ? undefined : fields[key]!.kind === "bool" ? "optional" : "required";
  };
  for (const t of tokenizeArgv(sources.args ?? [], { arity })) {
    if (t.type === "positional") {
      errors.push(`unexpected argument '${t.value}'`);
    } else if (t.type === "error") {
      errors.push(
        t.error === "unknown" ? `--${t.name}: unknown flag` : `--${t.name}: needs a value`,
      );
    } else {
      flagValues[byFlag.get(t.name)!] = {
        value: t.value ?? true,
        from: `--${t.name}`,
        source: "flag",
      };
    }
  }

  // File (its path may come from a flag or the environment).
  const env = sources.env ?? {};
  const filePath = (flagValues.config?.value as string | undefined) ?? env[envName("config")];
  if (filePath) {
    try {
      const text = (sources.readFile ?? Deno.readTextFileSync)(filePath);
      const obj = JSON.parse(text);
      if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
        throw new TypeError("expected a JSON object");
      }
      for (const [name, value] of Object.entries(obj)) {
        const key = byFlag.get(name) ?? (name in fields ? name : undefined);
        if (key === undefined) errors.push(`${filePath}: unknown key '${name}'`);
        else raw[key] = { value, from: `${filePath}: ${name}`, source: "file" };
      }
    } catch (err) {
      errors.push(`${filePath}: cannot read config file: ${(err as Error).message}`);
    }
  }
  for (const key of Object.keys(fields)) {
    const v = env[envName(key)];
    if (v !== undefined) raw[key] = { value: v, from: envName(key), source: "env" };
  }
  Object.assign(raw, flagValues);

  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const src = raw[key];
    try {
      const v = coerce(field, src?.value);
      if (typeof v === "number") {
        if (field.min !== undefined && v < field.min) {
          throw new RangeError(`must be at least ${field.min}, got ${v}`);
        }
        if (field.max !== undefined && v > field.max) {
          throw new RangeError(`must be at most ${field.max}, got ${v}`);
        }
      }
      if (field.check !== undefined && src !== undefined) {
        for (const item of Array.isArray(v) ? v : typeof v === "string" ? [v] : []) {
          field.check(item);
        }
      }
      out[key] = v;
    } catch (err) {
      errors.push(`${src?.from ?? key}: ${(err as Error).message}`);
    }
  }
  const cfg = out as Config;
  if (errors.length === 0) {
    if (cfg.defaultTtl > cfg.maxTtl) {
      errors.push(`default-ttl (${cfg.defaultTtl}s) must not exceed max-ttl (${cfg.maxTtl}s)`);
    }
    if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) {
      errors.push("tls-cert and tls-key must be given together");
    }
    for (const o of cfg.corsOrigins) {
      if (o !== "*" && !/^https?:\/\/[^/\s]+\/?$/i.test(o)) {
        errors.push(`cors-origins: expected * or origins like https://wallet.example, got '${o}'`);
      }
    }
    if (cfg.store !== undefined && !/^postgres(ql)?:\/\//.test(cfg.store)) {
      errors.push("store: expected a postgres:// URL (leave empty for embedded SQLite)");
    }
  }
  if (errors.length > 0) throw new ConfigError(errors);
  const from: Record<string, ConfigSource> = {};
  for (const key of Object.keys(fields)) from[key] = raw[key]?.source ?? "default";
  SOURCES.set(cfg, from);
  return cfg;
}

/** Where a configuration value came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";

const SOURCES = new WeakMap<Config, Record<string, ConfigSource>>();

/**
 * Where each value of a configuration made by {@linkcode loadConfig} came from (`default` for
 * every key of a configuration built another way).
 *
 * @example
 * ```ts
 * const cfg = loadConfig({ args: ["--port", "0"], env: {} });
 * configSources(cfg).port; // "flag"
 * ```
 */
export function configSources(cfg: Config): Readonly<Record<string, ConfigSource>> {
  return SOURCES.get(cfg) ?? {};
}

/** The configuration with secret values replaced by `"(redacted)"`, for display. */
export function redactedConfig(cfg: Config): Record<string, unknown> {
  const fields = SCHEMA as unknown as Record<string, AnyField>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) {
    out[key] = fields[key]?.secret && value !== undefined ? "(redacted)" : value;
  }
  return out;
}

/** Renders the Markdown reference of every key (written to `docs/config.md`). */
export function configMarkdown(): string {
  const fields = SCHEMA as unknown as Record<string, AnyField>;
  const rows = Object.entries(fields).map(([key, f]) => {
    const def = f.default === undefined
      ? "(none)"
      : Array.isArray(f.default)
      ? (f.default.length ? f.default.join(",") : "(empty)")
      : String(f.default);
    const type = f.kind === "enum" ? f.values!.join(" \\| ") : f.kind;
    return `| \`--${flagName(key)}\` | \`${envName(key)}\` | ${type} | \`${def}\` | ${
      f.unit ?? ""
    } | ${f.description}${f.secret ? " (secret: redacted on display)" : ""} |`;
  });
  return [
    "# Configuration",
    "",
    "<!-- Generated from node/config.ts by `deno task docs`; do not edit by hand. -->",
    "",
    "Every key can be set, from lowest to highest precedence, by its default, a JSON config file",
    "(`--config FILE`, keys in kebab-case), an environment variable, or a command-line flag.",
    "An invalid value stops the node, which lists every problem at once. Sizes accept suffixes",
    "(`64KiB`, `10GB`); durations accept `s`, `m`, `h`, `d`, `w` (`7d`).",
    "",
    "| flag | environment | type | default | unit | description |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
