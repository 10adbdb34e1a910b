/**
 * Posting a payload from the CLI (send, request, pay): builds the client (proxy) with the wallet
 * file as its token store, so the wallet library spends one Privacy Pass token per post (checks
 * the node's limits first, answers a 401 challenge with a fitting token, puts a token back when
 * the node never charged it); explains how to get tokens on 401.
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
import { clientFrom, cliErrors, httpFrom, walletPathFrom } from "./_client.ts";
import { outOfTokensHelp, readWalletTokens, serverKey, WalletTokenStore } from "./tokens.ts";

/** Seals `payload` to `to` and posts it to `server`, paying with the wallet's tokens. */
export async function postPayload(
  flags: ParsedFlags,
  server: string,
  to: StealthAddress,
  payload: Payload,
  opts: { ttlSeconds?: number | undefined; signWith?: Uint8Array | undefined },
): Promise<SendResult> {
  const walletPath = walletPathFrom(flags, { optional: true });
  const tokens = walletPath === undefined ? undefined : new WalletTokenStore(walletPath);
  const before = walletPath === undefined ? 0 : await tokensFor(walletPath, server);
  const client = await clientFrom(flags, tokens);
  return await cliErrors(async () => {
    try {
      return await client.send(server, to, payload, {
        ...(opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {}),
        ...(opts.signWith !== undefined ? { signWith: opts.signWith } : {}),
      });
    } catch (e) {
      if (e instanceof SubspaceHttpError && e.status === 401) {
        const after = walletPath === undefined ? 0 : await tokensFor(walletPath, server);
        if (before > 0 && after > 0) {
          // Tokens were there and the node refused them: say so, not "no tokens".
          throw new CliError(
            `${e.message}\nThe node refused ${
              before - after
            } of the wallet's tokens; ${after} are left in ${walletPath}. ` +
              `If the node changed its issuer key, fetch new ones: subspace tokens --server ${server} --wallet ${walletPath}`,
          );
        }
        const help = await outOfTokensHelp(server, walletPath, httpFrom(flags));
        throw new CliError(`${e.message}\n${help}`);
      }
      throw e;
    }
  });
}

async function tokensFor(walletPath: string, server: string): Promise<number> {
  try {
    return (await readWalletTokens(walletPath))[serverKey(server)]?.tokens.length ?? 0;
  } catch {
    return 0;
  }
}
