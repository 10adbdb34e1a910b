/**
 * Posting a payload from the CLI (send, request, pay): builds the client (proxy), spends one
 * Privacy Pass token from the `--wallet` per post when it holds some (cli/tokens.ts, issue 5),
 * puts a token back when the server never saw it, and explains how to get tokens on 401.
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
import { outOfTokensHelp, returnToken, takeToken } from "./tokens.ts";

/** Seals `payload` to `to` and posts it to `server`, paying with the wallet's tokens. */
export async function postPayload(
  flags: ParsedFlags,
  server: string,
  to: StealthAddress,
  payload: Payload,
  opts: { ttlSeconds?: number | undefined; signWith?: Uint8Array | undefined },
): Promise<SendResult> {
  const walletPath = flags.strings.get("wallet");
  let taken: string | undefined;
  const client = await clientFrom(
    flags,
    walletPath === undefined
      ? undefined
      : async (c) => (taken = await takeToken(walletPath, c.server)),
  );
  return await cliErrors(async () => {
    try {
      return await client.send(server, to, payload, {
        ...(opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {}),
        ...(opts.signWith !== undefined ? { signWith: opts.signWith } : {}),
      });
    } catch (e) {
      if (e instanceof SubspaceHttpError && e.status === 401) {
        throw new CliError(`${e.message}\n${await outOfTokensHelp(server, walletPath)}`);
      }
      // The server never saw the token (network failure): keep it for next time.
      if (!(e instanceof SubspaceHttpError) && taken !== undefined && walletPath !== undefined) {
        await returnToken(walletPath, server, taken);
      }
      throw e;
    }
  });
}
