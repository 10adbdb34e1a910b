/**
 * Small, strict flag parser shared by every command: `--name value`, `--name=value`,
 * boolean `--flag`. Unknown flags are an error, so typos never pass silently.
 *
 * @module
 */

/** An error the CLI prints as one line before exiting non-zero. */
export class CliError extends Error {
  /** Process exit code (2 for usage errors, 1 for everything else). */
  exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** Describes the flags a command takes. */
export interface FlagSpec {
  /** Flags that take a value. */
  string?: readonly string[];
  /** Flags that take no value. */
  boolean?: readonly string[];
  /** Flags that may repeat (their values are collected in order). */
  collect?: readonly string[];
}

/** Parsed flags: strings, booleans, repeated values and positional arguments. */
export interface ParsedFlags {
  strings: Map<string, string>;
  booleans: Set<string>;
  collected: Map<string, string[]>;
  positional: string[];
}

/**
 * Parses `args` against `spec`.
 *
 * @example
 * ```ts
 * const f = parseFlags(["--port", "80", "--json"], { string: ["port"], boolean: ["json"] });
 * f.strings.get("port"); // "80"
 * ```
 */
export function parseFlags(args: readonly string[], spec: FlagSpec): ParsedFlags {
  const strings = new Map<string, string>();
  const booleans = new Set<string>();
  const collected = new Map<string, string[]>();
  const positional: string[] = [];
  const isString = new Set(spec.string ?? []);
  const isBool = new Set([...(spec.boolean ?? []), "help"]);
  const isCollect = new Set(spec.collect ?? []);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      if (arg === "-h") {
        booleans.add("help");
        continue;
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (isBool.has(name)) {
      if (value !== undefined) throw new CliError(`flag --${name} takes no value`, 2);
      booleans.add(name);
      continue;
    }
    if (!isString.has(name) && !isCollect.has(name)) {
      throw new CliError(`unknown flag --${name}`, 2);
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new CliError(`flag --${name} needs a value`, 2);
    }
    if (isCollect.has(name)) {
      const list = collected.get(name) ?? [];
      list.push(value);
      collected.set(name, list);
    } else {
      strings.set(name, value);
    }
  }
  return { strings, booleans, collected, positional };
}

/** Returns the flag's value or throws a usage error naming it. */
export function requireFlag(flags: ParsedFlags, name: string): string {
  const v = flags.strings.get(name);
  if (v === undefined) throw new CliError(`missing required flag --${name}`, 2);
  return v;
}
