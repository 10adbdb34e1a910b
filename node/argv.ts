/**
 * The one command-line flag tokenizer, shared by the node's configuration (`node/config.ts`)
 * and the wallet CLI (`cli/_args.ts`). It reads `--name value`, `--name=value`, boolean
 * `--flag` and repeated flags, and reports problems as tokens, so each caller words and
 * collects its errors its own way (the config lists every problem at once; the CLI stops at
 * the first).
 *
 * How a flag takes its value is the caller's `arity(name)`:
 * - `"required"`: the text after `=`, else the next argument (whatever it is);
 * - `"optional"`: the text after `=`, else the next argument unless it is missing or another
 *   flag (`--ipv6 --port 80` sets `ipv6` with no value; `--ipv6 false` passes "false");
 * - `"none"`: no value; `--flag=x` is a `"takes-no-value"` error;
 * - `undefined`: an unknown flag, reported as `"unknown"`; like an optional flag it swallows a
 *   following argument that is not a flag, so one typo is one error.
 *
 * @example
 * ```ts
 * const tokens = [...tokenizeArgv(["--port=80", "--json", "file"], {
 *   arity: (name) => name === "port" ? "required" : name === "json" ? "none" : undefined,
 * })];
 * // [{ type: "flag", name: "port", value: "80" }, { type: "flag", name: "json" },
 * //  { type: "positional", value: "file" }]
 * ```
 *
 * @module
 */

/** How a flag takes a value (see the module documentation). */
export type FlagArity = "required" | "optional" | "none";

/** Options of {@linkcode tokenizeArgv}. */
export interface ArgvOptions {
  /** How flag `name` (without `--`) takes a value; `undefined` when there is no such flag. */
  arity(name: string): FlagArity | undefined;
  /** Single-dash aliases, e.g. `{ "-h": "help" }`. */
  aliases?: Readonly<Record<string, string>>;
  /** Whether a bare `--` ends the flags (everything after it is positional). */
  endOfFlags?: boolean;
}

/** One flag, one positional argument or one problem, in command-line order. */
export type ArgvToken =
  | { type: "flag"; name: string; value?: string }
  | { type: "positional"; value: string }
  | { type: "error"; name: string; error: "unknown" | "needs-value" | "takes-no-value" };

/**
 * Splits `args` into flags, positional arguments and problems.
 *
 * @example
 * ```ts
 * for (const t of tokenizeArgv(Deno.args, { arity: () => "required" })) console.log(t);
 * ```
 */
export function* tokenizeArgv(
  args: readonly string[],
  opts: ArgvOptions,
): Generator<ArgvToken, void, undefined> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (opts.endOfFlags && arg === "--") {
      for (const rest of args.slice(i + 1)) yield { type: "positional", value: rest };
      return;
    }
    const alias = opts.aliases?.[arg];
    if (alias !== undefined) {
      yield { type: "flag", name: alias };
      continue;
    }
    if (!arg.startsWith("--")) {
      yield { type: "positional", value: arg };
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const next = args[i + 1];
    const nextIsValue = next !== undefined && !next.startsWith("--");
    const arity = opts.arity(name);
    if (arity === undefined) {
      if (inline === undefined && nextIsValue) i++;
      yield { type: "error", name, error: "unknown" };
    } else if (arity === "none") {
      yield inline === undefined
        ? { type: "flag", name }
        : { type: "error", name, error: "takes-no-value" };
    } else if (inline !== undefined) {
      yield { type: "flag", name, value: inline };
    } else if (arity === "optional") {
      if (nextIsValue) i++;
      yield nextIsValue ? { type: "flag", name, value: next } : { type: "flag", name };
    } else if (next === undefined) {
      yield { type: "error", name, error: "needs-value" };
    } else {
      i++;
      yield { type: "flag", name, value: next };
    }
  }
}
