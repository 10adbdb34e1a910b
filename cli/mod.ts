/**
 * Command-line dispatcher. Every command lives in its own file and exports
 * `run(args: string[]): Promise<number>` (the exit code).
 *
 * @module
 */
import { CliError } from "./_args.ts";

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

/** The commands of the public contract (DESIGN.md). */
export const COMMANDS: Record<string, Command> = {
  serve: { summary: "run a Subspace node", load: () => import("./serve.ts") },
  keygen: { summary: "create a wallet and its stealth address", load: () => import("./keygen.ts") },
  address: { summary: "print or decode a stealth address", load: () => import("./address.ts") },
  signup: { summary: "get an account by solving a captcha", load: () => import("./signup.ts") },
  tokens: { summary: "fetch anonymous tokens into a wallet", load: () => import("./tokens.ts") },
  send: { summary: "encrypt and post a message to an address", load: () => import("./send.ts") },
  inbox: { summary: "read (or --watch) messages for a wallet", load: () => import("./inbox.ts") },
  request: { summary: "push a BIP70 PaymentRequest", load: () => import("./request.ts") },
  pay: { summary: "push a BIP70 Payment", load: () => import("./pay.ts") },
  buy: {
    summary: "buy token bundles for bitcoin (BIP21, QR code)",
    load: () => import("./buy.ts"),
  },
  admin: {
    summary: "operator tasks: console password, sessions",
    load: () => import("./admin.ts"),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "Usage: subspace <command> [options]",
    "       subspace --version | --help",
    "",
    "Commands:",
    ...lines,
    "",
    "Options:",
    "  --version  print the version",
    "  --help     print this help",
    "",
    "Run 'subspace <command> --help' for a command's options. Defaults (server, wallet, proxy)",
    "can be set in $XDG_CONFIG_HOME/subspace/config.json (docs/client.md).",
  ].join("\n");
}

/** Runs one command line and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    const { VERSION } = await import("../node/version.ts");
    console.log(VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`subspace: unknown command '${name}'. Run 'subspace --help'.`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`subspace ${name}: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
