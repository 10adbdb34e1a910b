/**
 * Small, strict flag parser shared by every command: `--name value`, `--name=value`,
 * boolean `--flag`, repeated flags, `-h`, and `--` before positional arguments. Unknown flags
 * are an error, so typos never pass silently. The tokenizing is the node's
 * (`node/argv.ts`, also behind `subspace serve`'s configuration flags).
 *
 * @module
 */
import { type FlagArity, tokenizeArgv } from "../node/mod.ts";

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
  const arity = (name: string): FlagArity | undefined =>
    isBool.has(name) ? "none" : isString.has(name) || isCollect.has(name) ? "required" : undefined;
  for (const t of tokenizeArgv(args, { arity, aliases: { "-h": "help" }, endOfFlags: true })) {
    if (t.type === "positional") {
      positional.push(t.value);
    } else if (t.type === "error") {
      throw new CliError(
        t.error === "unknown"
          ? `unknown flag --${t.name}`
          : t.error === "takes-no-value"
          ? `flag --${t.name} takes no value`
          : `flag --${t.name} needs a value`,
        2,
      );
    } else if (t.value === undefined) {
      booleans.add(t.name);
    } else if (isCollect.has(t.name)) {
      const list = collected.get(t.name) ?? [];
      list.push(t.value);
      collected.set(t.name, list);
    } else {
      strings.set(t.name, t.value);
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
