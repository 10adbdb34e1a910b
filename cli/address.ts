/**
 * `subspace address`: prints a wallet's stealth address, or decodes any stealth address into
 * its fields as JSON.
 *
 * @module
 */
import { decodeStealthAddress, stealthAddressToJson } from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import { maybeHelp, noPositional, walletOption, walletPathFrom } from "./_client.ts";
import { helpText } from "./_help.ts";
import { readWallet } from "./_wallet.ts";

const HELP = helpText({
  usage: ["subspace address [--wallet FILE]", "subspace address --decode ADDR"],
  about: "Prints the wallet's stealth address (no passphrase needed), or decodes any stealth " +
    "address into its fields as JSON.",
  options: [
    walletOption("the wallet"),
    [
      "--decode ADDR",
      "print the address fields as JSON: version, network, options, scan_pubkey, spend_pubkeys, signatures, prefix_bits, prefix",
    ],
  ],
});

/** Runs `subspace address`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, { string: ["wallet", "decode"] });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const decode = flags.strings.get("decode");
  if (flags.strings.has("wallet") && decode !== undefined) {
    throw new CliError("give one of --wallet FILE or --decode ADDR", 2);
  }
  if (decode !== undefined) {
    try {
      console.log(JSON.stringify(stealthAddressToJson(decodeStealthAddress(decode)), null, 2));
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    return 0;
  }
  const wallet = await readWallet(walletPathFrom(flags)!);
  console.log(wallet.file.address);
  return 0;
}
