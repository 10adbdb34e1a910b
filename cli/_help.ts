/**
 * Help text for the CLI commands, laid out one way everywhere: usage lines, a paragraph, and
 * options in two aligned columns (descriptions wrapped at 100 columns, under their column).
 *
 * @module
 */

/** One option row: the flag with its value name, and what it does (defaults in words). */
export type HelpOption = readonly [flag: string, description: string];

/** What a command's help says. */
export interface HelpSpec {
  /** Usage lines, without the leading "Usage: ". */
  usage: readonly string[];
  /** What the command does (one paragraph; blank lines kept). */
  about: string;
  /** Option rows, in the order shown. */
  options: readonly HelpOption[];
}

const WIDTH = 100;
const MAX_FLAG_COLUMN = 26;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/\s+/).filter((w) => w !== "")) {
      if (line !== "" && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Renders a command's help.
 *
 * @example
 * ```ts
 * helpText({ usage: ["subspace x --a N"], about: "Does x.", options: [["--a N", "count"]] });
 * ```
 */
export function helpText(spec: HelpSpec): string {
  const col = Math.min(
    MAX_FLAG_COLUMN,
    Math.max(...spec.options.map(([f]) => f.length), 0) + 2,
  );
  const out: string[] = [];
  spec.usage.forEach((u, i) => out.push(`${i === 0 ? "Usage: " : "       "}${u}`));
  out.push("", ...wrap(spec.about.trim(), WIDTH));
  if (spec.options.length > 0) {
    out.push("", "Options:");
    for (const [flag, desc] of spec.options) {
      const body = wrap(desc, WIDTH - 2 - col);
      if (flag.length + 2 > col) {
        out.push(`  ${flag}`);
        for (const l of body) out.push(`  ${" ".repeat(col)}${l}`);
      } else {
        out.push(`  ${flag.padEnd(col)}${body[0] ?? ""}`);
        for (const l of body.slice(1)) out.push(`  ${" ".repeat(col)}${l}`);
      }
    }
  }
  return out.join("\n");
}
