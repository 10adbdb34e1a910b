/**
 * Posting a payload from the CLI (send, request, pay): builds the client (proxy) with the
 * `--wallet` file as its token store, so the wallet library spends one Privacy Pass token per
 * post (answers a 401 challenge with a fitting one, and puts a token back when the server
 * never answered); explains how to get tokens on 401.
 *
 * @module
 */
import {
  type Payload,
  type SendResult,
  type StealthAddress,
  SubspaceHttpError,
} from "../client/mod.ts";
import { CliError, type ParsedFlags } from "./_args.ts";
import { clientFrom, cliErrors } from "./_client.ts";
import { outOfTokensHelp, WalletTokenStore } from "./tokens.ts";

/** Seals `payload` to `to` and posts it to `server`, paying with the wallet's tokens. */
export async function postPayload(
  flags: ParsedFlags,
  server: string,
  to: StealthAddress,
  payload: Payload,
  opts: { ttlSeconds?: number | undefined; signWith?: Uint8Array | undefined },
): Promise<SendResult> {
  const walletPath = flags.strings.get("wallet");
  const tokens = walletPath === undefined ? undefined : new WalletTokenStore(walletPath);
  const client = await clientFrom(flags, tokens);
  return await cliErrors(async () => {
    try {
      return await client.send(server, to, payload, {
        ...(opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {}),
        ...(opts.signWith !== undefined ? { signWith: opts.signWith } : {}),
      });
    } catch (e) {
      if (e instanceof SubspaceHttpError && e.status === 401) {
        const proxy = flags.strings.get("proxy");
        const help = await outOfTokensHelp(server, walletPath, proxy ? { proxy } : {});
        throw new CliError(`${e.message}\n${help}`);
      }
      throw e;
    }
  });
}
