/**
 * Where the wallet CLI looks for things a user should not have to repeat: a config file
 * (`$XDG_CONFIG_HOME/subspace/config.json`, else `~/.config/subspace/config.json`; or
 * `$SUBSPACE_CLI_CONFIG`) with the default server(s), wallet path and proxy; the default wallet
 * location (`$XDG_DATA_HOME/subspace/wallet.json`, else `~/.local/share/subspace/wallet.json`:
 * outside any repository); and paths typed by the user, resolved against the directory they
 * stand in (`INIT_CWD`, which `deno task` sets, since the task itself runs in the repository).
 *
 * ```json
 * { "server": "https://node.example", "servers": ["https://a.example", "https://b.example"],
 *   "wallet": "~/wallets/alice.json", "proxy": "socks5://127.0.0.1:9050" }
 * ```
 *
 * Flags win over the file. Unknown keys and wrong types are refused, all listed at once.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { CliError } from "./_args.ts";

/** The CLI's config file. */
export interface CliConfig {
  /** Default server for commands that talk to one. */
  server?: string;
  /** Default servers for `inbox` (several are read at once); the first also serves as `server`. */
  servers?: string[];
  /** Default wallet file. */
  wallet?: string;
  /** Default proxy (`socks5://host:port` or `http://host:port`). */
  proxy?: string;
}

const KEYS = { server: "string", servers: "list", wallet: "string", proxy: "string" } as const;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function home(): string {
  const h = env("HOME") ?? env("USERPROFILE");
  if (h === undefined) throw new CliError("cannot tell your home directory: HOME is not set");
  return h;
}

/** Expands a leading `~/` to the home directory. */
function expandHome(p: string): string {
  return p === "~" ? home() : p.startsWith("~/") ? join(home(), p.slice(2)) : p;
}

/** The config file's path. */
export function cliConfigPath(): string {
  const explicit = env("SUBSPACE_CLI_CONFIG");
  if (explicit !== undefined) return userPath(explicit);
  return join(env("XDG_CONFIG_HOME") ?? join(home(), ".config"), "subspace", "config.json");
}

/** Where `keygen` writes, and every command reads, the wallet when none is named. */
export function defaultWalletPath(): string {
  return join(env("XDG_DATA_HOME") ?? join(home(), ".local", "share"), "subspace", "wallet.json");
}

/**
 * A path the user typed, made absolute against the directory they ran the command in
 * (`INIT_CWD` under `deno task`, else the working directory); `~/` is the home directory.
 */
export function userPath(p: string): string {
  const expanded = expandHome(p);
  if (isAbsolute(expanded)) return expanded;
  return resolve(whereTheUserStands(), expanded);
}

/** The repository root, where `deno task cli` runs (whatever folder it was typed in). */
const TASK_DIR = resolve(fromFileUrl(new URL("..", import.meta.url)));

/**
 * The folder the user typed the command in: `INIT_CWD` when running as `deno task cli` (its
 * working directory is then the repository's), else the working directory.
 */
function whereTheUserStands(): string {
  const cwd = Deno.cwd();
  const init = env("INIT_CWD");
  return init !== undefined && resolve(cwd) === TASK_DIR ? init : cwd;
}

let cached: CliConfig | undefined;

/** Reads the config file once (none is `{}`); throws a {@linkcode CliError} naming each problem. */
export function cliConfig(): CliConfig {
  if (cached !== undefined) return cached;
  const path = cliConfigPath();
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return cached = {};
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new CliError(`${path}: expected a JSON object`);
  }
  const errors: string[] = [];
  const out: CliConfig = {};
  for (const [k, v] of Object.entries(obj)) {
    const kind = KEYS[k as keyof typeof KEYS];
    if (kind === undefined) {
      errors.push(`unknown key '${k}' (known: ${Object.keys(KEYS).join(", ")})`);
    } else if (kind === "list") {
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
        errors.push(`'${k}' must be a list of strings`);
      } else out.servers = v as string[];
    } else if (typeof v !== "string") {
      errors.push(`'${k}' must be a string`);
    } else if (k === "wallet") {
      // Relative to the config file's folder, so the file means the same from anywhere.
      const p = expandHome(v);
      out.wallet = isAbsolute(p) ? p : resolve(path, "..", p);
    } else {
      (out as Record<string, string>)[k] = v;
    }
  }
  if (errors.length > 0) throw new CliError(`${path}: ${errors.join("; ")}`, 2);
  return cached = out;
}
