/**
 * `subspace keygen`: creates a wallet from a new (or given) BIP39 mnemonic, shows the mnemonic
 * once, writes the wallet file with mode 0600 and prints the stealth address.
 *
 * @module
 */
import {
  addressForKeys,
  encodeStealthAddress,
  fromHex,
  generateMnemonic,
  keysFromMnemonic,
  MAX_PREFIX_BITS,
} from "../client/mod.ts";
import { dirname } from "node:path";
import { CliError, parseFlags } from "./_args.ts";
import { intFlag, maybeHelp, noPositional, walletOption, walletPathFrom } from "./_client.ts";
import { helpText } from "./_help.ts";
import { makeWalletFile, readPassphrase, writeWalletFile } from "./_wallet.ts";

const HELP = helpText({
  usage: ["subspace keygen [--wallet FILE] [options]"],
  about:
    "Creates a wallet: a 24-word BIP39 mnemonic (shown once, on stderr), scan and spend keys " +
    "on the BIP352 paths, and a stealth address (printed on stdout). On a terminal it asks for " +
    "a passphrase to encrypt the keys (scrypt + XChaCha20-Poly1305; docs/client.md); an empty " +
    "one, or --no-encrypt, stores them unencrypted, with a warning.",
  options: [
    walletOption("wallet file to create (mode 0600; never overwritten)"),
    [
      "--prefix-bits N",
      "prefix bits to publish, 0..32 (default 8); each bit halves what you download and " +
      "halves your anonymity set (docs/client.md)",
    ],
    ["--prefix HEX", "publish this prefix instead of the one derived from the scan key"],
    ["--testnet", "testnet keys (BIP352 coin type 1') and a testnet address (0x2b)"],
    ["--passphrase-env VAR", "encrypt the keys with the passphrase in environment variable VAR"],
    [
      "--no-encrypt",
      "store the keys unencrypted without asking (anyone who reads the file can read your messages)",
    ],
    ["--encrypt", "insist on encryption: fail when there is no terminal to ask on"],
    ["--mnemonic-env VAR", "restore from the mnemonic in VAR instead of making a new one"],
    ["--bip39-passphrase-env VAR", 'BIP39 passphrase ("25th word") for the seed, from VAR'],
    ["--quiet", "do not print the mnemonic (only with --mnemonic-env)"],
  ],
});

/** Runs `subspace keygen`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [
      "wallet",
      "prefix-bits",
      "prefix",
      "passphrase-env",
      "mnemonic-env",
      "bip39-passphrase-env",
    ],
    boolean: ["testnet", "encrypt", "no-encrypt", "quiet"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const path = walletPathFrom(flags)!;
  if (flags.booleans.has("encrypt") && flags.booleans.has("no-encrypt")) {
    throw new CliError("give --encrypt or --no-encrypt, not both", 2);
  }
  const prefixBits = intFlag(flags, "prefix-bits", 0, MAX_PREFIX_BITS) ?? 8;
  const network = flags.booleans.has("testnet") ? "testnet" : "mainnet";
  let prefix: Uint8Array | undefined;
  const prefixHex = flags.strings.get("prefix");
  if (prefixHex !== undefined) {
    try {
      prefix = fromHex(prefixHex, "--prefix");
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    if (prefix.length * 8 < prefixBits) {
      throw new CliError(
        `--prefix has ${prefix.length * 8} bits but --prefix-bits is ${prefixBits}`,
        2,
      );
    }
  }
  try {
    await Deno.lstat(path);
    throw new CliError(`${path} already exists; refusing to overwrite a wallet`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const mnemonicVar = flags.strings.get("mnemonic-env");
  let mnemonic: string;
  if (mnemonicVar !== undefined) {
    const m = Deno.env.get(mnemonicVar);
    if (m === undefined) throw new CliError(`environment variable ${mnemonicVar} is not set`, 2);
    mnemonic = m;
  } else {
    if (flags.booleans.has("quiet")) {
      throw new CliError("--quiet needs --mnemonic-env: a new mnemonic must be shown once", 2);
    }
    mnemonic = generateMnemonic();
  }
  const bip39Var = flags.strings.get("bip39-passphrase-env");
  const bip39Passphrase = bip39Var === undefined ? "" : Deno.env.get(bip39Var);
  if (bip39Passphrase === undefined) {
    throw new CliError(`environment variable ${bip39Var} is not set`, 2);
  }
  let keys;
  try {
    keys = keysFromMnemonic(mnemonic, { network, passphrase: bip39Passphrase });
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const envVar = flags.strings.get("passphrase-env");
  if (envVar !== undefined && flags.booleans.has("no-encrypt")) {
    throw new CliError("give --passphrase-env or --no-encrypt, not both", 2);
  }
  const ask = !flags.booleans.has("no-encrypt");
  const passphrase = await readPassphrase(envVar, {
    prompt: ask,
    confirm: true,
    label: "Passphrase to encrypt the wallet (empty: store the keys unencrypted): ",
  });
  if (flags.booleans.has("encrypt") && !passphrase) {
    throw new CliError(
      "--encrypt needs a terminal to ask for the passphrase; use --passphrase-env",
      2,
    );
  }
  if (!passphrase) {
    console.error(
      `Warning: the keys are stored unencrypted in ${path}: anyone who can read the file can ` +
        `read your messages and sign as you.${
          ask && !Deno.stdin.isTerminal() ? " Encrypt with --passphrase-env VAR." : ""
        }`,
    );
  }
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const addressOpts: { prefixBits: number; prefix?: Uint8Array } = { prefixBits };
  if (prefix !== undefined) addressOpts.prefix = prefix;
  const address = encodeStealthAddress(addressForKeys(keys, addressOpts));
  const file = await makeWalletFile(keys, address, passphrase);
  await writeWalletFile(path, file);
  if (!flags.booleans.has("quiet") && mnemonicVar === undefined) {
    console.error(
      [
        "Your recovery phrase (shown only now; write it down, keep it offline):",
        "",
        `  ${mnemonic}`,
        "",
        `Wallet written to ${path}${passphrase ? " (keys encrypted)" : ""}.`,
      ].join("\n"),
    );
  }
  console.log(address);
  return 0;
}
