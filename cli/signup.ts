/**
 * `subspace signup`: gets an account number from a server by solving its captcha. The captcha
 * image is saved as an SVG file (the same form is at `<server>/signup` in a browser); the
 * answer is read from standard input.
 *
 * @module
 */
import { createAccount, fetchCaptcha } from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import {
  cliErrors,
  formatDuration,
  httpFrom,
  maybeHelp,
  NETWORK_OPTIONS,
  noPositional,
  serverFrom,
  walletOption,
  walletPathFrom,
} from "./_client.ts";
import { userPath } from "./_config.ts";
import { helpText } from "./_help.ts";
import { serverKey, updateWalletTokens } from "./tokens.ts";

const HELP = helpText({
  usage: ["subspace signup [--server URL] [--wallet FILE] [--captcha-file FILE] [--json]"],
  about: "Fetches a captcha, saves it as an SVG file, reads your answer from standard input and " +
    "prints the new account number, which is saved in the wallet for 'subspace tokens'. In a " +
    "browser the same form is at <server>/signup. Every request goes through --proxy when given.",
  options: [
    ...NETWORK_OPTIONS,
    walletOption("save the account in this wallet file (if it exists)"),
    ["--captcha-file FILE", "where to save the captcha image (default: subspace-captcha.svg here)"],
    ["--json", "print {account, free_tokens, quota_period_seconds}"],
  ],
});

/** Reads one line from standard input (without echo control: the answer is not secret). */
async function readLine(): Promise<string> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (value) buf += value;
      const nl = buf.indexOf("\n");
      if (nl !== -1) return buf.slice(0, nl).replace(/\r$/, "");
      if (done) return buf;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Runs `subspace signup`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: ["server", "proxy", "wallet", "captcha-file"],
    boolean: ["json"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const server = serverFrom(flags);
  const http = httpFrom(flags);
  const file = userPath(flags.strings.get("captcha-file") ?? "subspace-captcha.svg");
  const wallet = walletPathFrom(flags, { optional: true });
  if (flags.strings.has("wallet") && wallet !== undefined) {
    await Deno.stat(wallet).catch(() => {
      throw new CliError(`wallet file ${wallet} not found (create one with 'subspace keygen')`);
    });
  }
  const captcha = await cliErrors(() => fetchCaptcha(server, http));
  await Deno.writeTextFile(file, captcha.svg);
  console.error(
    `Captcha saved to ${file}; open it (or ${serverKey(server)}/signup in a browser)\n` +
      `and type the characters you see, then Enter:`,
  );
  const answer = (await readLine()).trim();
  if (answer === "") throw new CliError("no answer given", 2);
  const created = await cliErrors(() => createAccount(server, captcha.id, answer, http));
  await Deno.remove(file).catch(() => {});
  const account = created.account;
  if (wallet !== undefined) {
    await updateWalletTokens(wallet, (all) => {
      const entry = all[serverKey(server)] ??= { tokens: [] };
      entry.account = account;
    });
  }
  if (flags.booleans.has("json")) {
    console.log(JSON.stringify({
      account,
      free_tokens: created.freeTokens,
      quota_period_seconds: created.quotaPeriodSeconds,
    }));
  } else {
    console.log(account);
    console.error(
      `Account created: ${created.freeTokens} free tokens every ${
        formatDuration(created.quotaPeriodSeconds)
      }.` +
        (wallet !== undefined
          ? ` Saved in ${wallet}; fetch tokens with: subspace tokens --server ${server} --wallet ${wallet}`
          : ` Keep the number secret; fetch tokens with: subspace tokens --server ${server} --account ${account} --wallet FILE`),
    );
  }
  return 0;
}
