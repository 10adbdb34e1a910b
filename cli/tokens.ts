/**
 * `subspace tokens`: fetches Privacy Pass tokens (RFC 9578, type 0x0002) for an account and
 * keeps them in the wallet file, under `tokens[<server origin>]`. Also the helpers `send` uses
 * to spend one, and the message it prints when none are left.
 *
 * @module
 */
import {
  blind,
  decodeTokenKey,
  encodeToken,
  encodeTokenRequest,
  finalize,
  formatAuthorization,
  parseAccountNumber,
  parseIssuerDirectory,
  sha256,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  tokenKeyId,
} from "../node/quota/mod.ts";
import { CliError, parseFlags, requireFlag } from "./_args.ts";
import { checkServer, maybeHelp, noPositional } from "./_client.ts";
import { readWallet } from "./_wallet.ts";

const HELP = `
Usage: subspace tokens --server URL --wallet FILE [--count N] [--account ACCOUNT] [--json]

Fetches N anonymous tokens (default 10) from the server's issuer and stores them in the wallet
file; 'subspace send --wallet FILE' spends one per message. The account number comes from
--account or from the wallet (saved by 'subspace signup --wallet FILE').

  --server URL        Subspace server base URL
  --wallet FILE       wallet file to keep the tokens in
  --count N           tokens to fetch (1..10000, default 10)
  --account ACCOUNT   account number (32 hex characters); saved in the wallet
  --json              print {fetched, stored, free_remaining, credit}
`;

/** Tokens kept for one server in the wallet file. */
export interface ServerTokens {
  /** The account number at that server. */
  account?: string;
  /** Unspent tokens, base64url. */
  tokens: string[];
}

/** The origin a server URL's tokens are filed under. */
export function serverKey(server: string): string {
  return new URL(server).origin;
}

/** Reads the `tokens` section of a wallet file. */
export async function readWalletTokens(path: string): Promise<Record<string, ServerTokens>> {
  const w = await readWallet(path);
  const t = (w.file as unknown as { tokens?: unknown }).tokens;
  return typeof t === "object" && t !== null ? t as Record<string, ServerTokens> : {};
}

/** Rewrites the `tokens` section of a wallet file (atomically, mode 0600), keeping the rest. */
export async function updateWalletTokens(
  path: string,
  mutate: (tokens: Record<string, ServerTokens>) => void,
): Promise<void> {
  await readWallet(path); // validates the file
  const file = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
  const tokens = typeof file.tokens === "object" && file.tokens !== null
    ? file.tokens as Record<string, ServerTokens>
    : {};
  mutate(tokens);
  file.tokens = tokens;
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  await Deno.chmod(tmp, 0o600).catch(() => {});
  await Deno.rename(tmp, path);
}

/**
 * Takes one token for `server` out of the wallet (saved before it is used, so a token is never
 * offered twice). Returns the `Authorization` value, or `undefined` when none is left.
 */
export async function takeToken(walletPath: string, server: string): Promise<string | undefined> {
  // Leave the file alone when it holds no token for this server.
  if (!(await readWalletTokens(walletPath))[serverKey(server)]?.tokens.length) return undefined;
  let token: string | undefined;
  await updateWalletTokens(walletPath, (all) => {
    token = all[serverKey(server)]?.tokens.shift();
  });
  if (token === undefined) return undefined;
  return formatAuthorization(Uint8Array.fromBase64(token, { alphabet: "base64url" }));
}

/** Puts a token back (the server never saw it). */
export async function returnToken(
  walletPath: string,
  server: string,
  authorization: string,
): Promise<void> {
  const m = /token="?([A-Za-z0-9_=-]+)"?/.exec(authorization);
  if (!m) return;
  await updateWalletTokens(walletPath, (all) => {
    const entry = all[serverKey(server)] ??= { tokens: [] };
    entry.tokens.unshift(m[1]!);
  });
}

async function getJson(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new CliError(`cannot reach ${new URL(url).origin}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  if (!res.ok) {
    const detail = typeof body.detail === "string" ? body.detail : text.slice(0, 200);
    throw new CliError(`${new URL(url).pathname}: ${res.status} ${detail}`);
  }
  return body;
}

/**
 * What to tell a user who has no token for `server`: the free quota, the price and how to buy.
 */
export async function outOfTokensHelp(server: string, walletPath?: string): Promise<string> {
  const w = walletPath ?? "WALLET";
  const lines = [
    `No tokens left for ${serverKey(server)}: posting there costs one token per message.`,
  ];
  try {
    const p = await getJson(`${server.replace(/\/+$/, "")}/v1/pricing`);
    lines.push(
      `Free quota: ${p.free_tokens} tokens per ${p.quota_period_seconds} s per account.`,
      `Get them:   subspace tokens --server ${server} --wallet ${w} --count ${
        Math.min(Number(p.free_tokens) || 10, 100)
      }`,
      `No account? subspace signup --server ${server} --wallet ${w}   (or open ${
        serverKey(server)
      }/signup)`,
    );
    if (p.fees_enabled === true) {
      lines.push(
        `Price:      ${p.tokens_per_bundle} tokens for ${p.bundle_price_sats} sats per bundle.`,
        `Buy:        POST ${
          serverKey(server)
        }/v1/invoices {"bundles": N} with 'Authorization: Bearer <account>', pay the bitcoin: URI, then run 'subspace tokens' again.`,
      );
    } else {
      lines.push("This server does not sell tokens.");
    }
  } catch {
    lines.push(`See ${serverKey(server)}/v1/pricing and ${serverKey(server)}/signup.`);
  }
  return lines.join("\n");
}

/** Options of {@linkcode fetchTokens}. */
export interface FetchTokensOptions {
  server: string;
  account: string;
  count: number;
  fetch?: typeof fetch;
}

/**
 * Fetches `count` tokens: reads the node's challenge (`/v1/info`) and signing key (issuer
 * directory), blinds, asks `POST /v1/tokens` in batches, finalizes. Returns base64url tokens.
 */
export async function fetchTokens(opts: FetchTokensOptions): Promise<{
  tokens: string[];
  freeRemaining: number;
  credit: number;
}> {
  const base = opts.server.replace(/\/+$/, "");
  const info = await getJson(`${base}/v1/info`);
  const t = info.tokens as { challenge?: string; issuer_directory?: string } | undefined;
  if (info.quota !== "tokens" || t?.challenge === undefined) {
    throw new CliError(`${serverKey(base)} does not ask for tokens (quota: ${String(info.quota)})`);
  }
  const challenge = Uint8Array.fromBase64(t.challenge, {
    alphabet: "base64url",
    lastChunkHandling: "loose",
  });
  const dir = parseIssuerDirectory(
    await getJson(base + (t.issuer_directory ?? "/.well-known/private-token-issuer-directory")),
  );
  const last = dir["token-keys"].filter((k) => k["token-type"] === TOKEN_TYPE_BLIND_RSA).at(-1);
  if (last === undefined) throw new CliError(`${serverKey(base)} publishes no token key`);
  const keyBytes = Uint8Array.fromBase64(last["token-key"], {
    alphabet: "base64url",
    lastChunkHandling: "loose",
  });
  const pk = decodeTokenKey(keyBytes);
  const keyId = tokenKeyId(keyBytes);
  const digest = sha256(challenge);
  const uri = dir["issuer-request-uri"].startsWith("http")
    ? dir["issuer-request-uri"]
    : base + dir["issuer-request-uri"];
  const out: string[] = [];
  let freeRemaining = 0;
  let credit = 0;
  const batch = 100;
  while (out.length < opts.count) {
    const n = Math.min(batch, opts.count - out.length);
    const pending = Array.from({ length: n }, () => {
      const nonce = crypto.getRandomValues(new Uint8Array(32));
      const input = tokenInput({
        tokenType: TOKEN_TYPE_BLIND_RSA,
        nonce,
        challengeDigest: digest,
        tokenKeyId: keyId,
      });
      return { nonce, input, ...blind(pk, input) };
    });
    const body = await getJson(uri, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${opts.account}` },
      body: JSON.stringify({
        token_requests: pending.map((p) =>
          encodeTokenRequest({
            tokenType: TOKEN_TYPE_BLIND_RSA,
            truncatedTokenKeyId: keyId[keyId.length - 1]!,
            blindedMsg: p.blindedMsg,
          }).toBase64({ alphabet: "base64url" })
        ),
      }),
    });
    const responses = body.token_responses as string[];
    for (const [i, p] of pending.entries()) {
      const blindSig = Uint8Array.fromBase64(responses[i]!, {
        alphabet: "base64url",
        lastChunkHandling: "loose",
      });
      const token = encodeToken({
        tokenType: TOKEN_TYPE_BLIND_RSA,
        nonce: p.nonce,
        challengeDigest: digest,
        tokenKeyId: keyId,
        authenticator: finalize(pk, p.input, blindSig, p.inv),
      });
      out.push(token.toBase64({ alphabet: "base64url" }));
    }
    freeRemaining = Number(body.free_remaining);
    credit = Number(body.credit);
  }
  return { tokens: out, freeRemaining, credit };
}

/** Runs `subspace tokens`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: ["server", "wallet", "count", "account"],
    boolean: ["json"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const server = checkServer(requireFlag(flags, "server"));
  const walletPath = requireFlag(flags, "wallet");
  const countText = flags.strings.get("count") ?? "10";
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > 10000) {
    throw new CliError(`--count must be an integer 1..10000, got '${countText}'`, 2);
  }
  const stored = await readWalletTokens(walletPath);
  const account = flags.strings.get("account") ?? stored[serverKey(server)]?.account;
  if (account === undefined) {
    throw new CliError(
      `no account for ${
        serverKey(server)
      } in ${walletPath}: run 'subspace signup --server ${server} --wallet ${walletPath}' or pass --account`,
      2,
    );
  }
  try {
    parseAccountNumber(account);
  } catch (e) {
    throw new CliError(`--account: ${(e as Error).message}`, 2);
  }
  const got = await fetchTokens({ server, account, count });
  let total = 0;
  await updateWalletTokens(walletPath, (all) => {
    const entry = all[serverKey(server)] ??= { tokens: [] };
    entry.account = account;
    entry.tokens.push(...got.tokens);
    total = entry.tokens.length;
  });
  if (flags.booleans.has("json")) {
    console.log(JSON.stringify({
      fetched: got.tokens.length,
      stored: total,
      free_remaining: got.freeRemaining,
      credit: got.credit,
    }));
  } else {
    console.log(
      `fetched ${got.tokens.length} tokens; ${total} stored for ${
        serverKey(server)
      } in ${walletPath} ` +
        `(${got.freeRemaining} free left this period, ${got.credit} credit)`,
    );
  }
  return 0;
}
