/**
 * `subspace address`: prints a wallet's stealth address, or decodes any stealth address into
 * its fields as JSON.
 *
 * @module
 */
import { decodeStealthAddress, stealthAddressToJson } from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import { maybeHelp, noPositional } from "./_client.ts";
import { readWallet } from "./_wallet.ts";

const HELP = `
Usage: subspace address --wallet FILE
       subspace address --decode ADDR

  --wallet FILE    print the wallet's stealth address (no passphrase needed)
  --decode ADDR    print the address fields as JSON: version, network, options, scan_pubkey,
                   spend_pubkeys, signatures, prefix_bits, prefix
`;

/** Runs `subspace address`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, { string: ["wallet", "decode"] });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const walletPath = flags.strings.get("wallet");
  const decode = flags.strings.get("decode");
  if ((walletPath === undefined) === (decode === undefined)) {
    throw new CliError("give exactly one of --wallet FILE or --decode ADDR", 2);
  }
  if (decode !== undefined) {
    try {
      console.log(JSON.stringify(stealthAddressToJson(decodeStealthAddress(decode)), null, 2));
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    return 0;
  }
  const wallet = await readWallet(walletPath!);
  console.log(wallet.file.address);
  return 0;
}
