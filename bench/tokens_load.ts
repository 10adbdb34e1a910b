/**
 * Token throughput on this machine (results in docs/bench/tokens.md):
 *
 * 1. Issuance in-process: `TokenService.issue` in batches of 100 (blind RSA signing with
 *    `node:crypto` raw RSA, quota reservation on SQLite).
 * 2. Issuance over HTTP: `POST /v1/tokens` JSON batches of 100 to a real node process, two
 *    wallets at once (client-side blinding and finalization included).
 * 3. Redemption in-process: `TokenService.redeem` (parse, RSASSA-PSS verify, spend the nonce in
 *    SQLite with group commit and full fsync), 64 at a time.
 * 4. Redemption over HTTP: `POST /v1/messages` carrying a token, against the same node, and the
 *    same load against a node with `--quota open` as the baseline (the ratio shows what tokens
 *    cost on top of storing messages).
 *
 * Run: `deno run -A bench/tokens_load.ts [--tokens 6000]`
 *
 * @module
 */
import { openStore } from "../node/store/mod.ts";
import {
  accountHash,
  blind,
  finalize,
  generateIssuerKey,
  IssuerKeyRing,
  parseAccountNumber,
  QUOTA_MIGRATIONS,
  QuotaStore,
  SpentSet,
  TokenService,
} from "../node/quota/mod.ts";
import {
  decodeTokenKey,
  encodeToken,
  formatAuthorization,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
} from "../client/mod.ts";
import { fetchTokens } from "../cli/tokens.ts";
import { startNode } from "../tests/_node.ts";

const argTokens = Deno.args.indexOf("--tokens");
const N = argTokens >= 0 ? Number(Deno.args[argTokens + 1]) : 6000;
const results: Record<string, string> = {};
const log = (k: string, v: string) => {
  results[k] = v;
  console.log(`${k}: ${v}`);
};

// ---------------------------------------------------------------- in-process
const dir = await Deno.makeTempDir({ prefix: "subspace-bench-tokens-" });
const store = await openStore({ dataDir: dir });
const quotaDb = await store.openFeatureDatabase({
  dataDir: dir,
  name: "quota",
  migrations: QUOTA_MIGRATIONS,
});
const qs = new QuotaStore(quotaDb.db);
const key = await generateIssuerKey();
const ring = await IssuerKeyRing.open({
  dataDir: dir,
  rotationSeconds: 86400,
  overlapSeconds: 86400,
  generate: () => Promise.resolve(key),
});
const svc = new TokenService({
  ring,
  store: qs,
  spent: new SpentSet(store),
  issuerName: "bench.local",
  policy: () => ({ freeTokens: 0, periodMs: 86_400_000 }),
  maxPerRequest: 100,
});
const account = parseAccountNumber("00112233445566778899aabbccddeeff");
await qs.createAccount(accountHash(account), Date.now(), "admin");
await qs.credit(accountHash(account), N);

const active = ring.active();
const pk = decodeTokenKey(active.tokenKey);
const pending = Array.from({ length: N }, () => {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const input = tokenInput({
    tokenType: TOKEN_TYPE_BLIND_RSA,
    nonce,
    challengeDigest: svc.challengeDigest,
    tokenKeyId: active.id,
  });
  return { nonce, input, ...blind(pk, input) };
});
let t0 = performance.now();
const tokens: Uint8Array[] = [];
for (let i = 0; i < N; i += 100) {
  const chunk = pending.slice(i, i + 100);
  const { blindSigs } = await svc.issue(
    accountHash(account),
    chunk.map((p) => ({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      truncatedTokenKeyId: active.truncatedId,
      blindedMsg: p.blindedMsg,
    })),
  );
  blindSigs.forEach((s, j) =>
    tokens.push(encodeToken({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      nonce: chunk[j]!.nonce,
      challengeDigest: svc.challengeDigest,
      tokenKeyId: active.id,
      authenticator: finalize(pk, chunk[j]!.input, s, chunk[j]!.inv),
    }))
  );
}
const issueSeconds = (performance.now() - t0) / 1000;
log(
  "issuance in-process (sign + reserve + client finalize)",
  `${(N / issueSeconds).toFixed(0)} tokens/s`,
);

t0 = performance.now();
let ok = 0;
let next = 0;
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < tokens.length) {
    const t = tokens[next++]!;
    if ((await svc.redeem(t)).ok) ok++;
  }
}));
const redeemSeconds = (performance.now() - t0) / 1000;
if (ok !== N) throw new Error(`only ${ok} of ${N} redeemed`);
log(
  "redemption in-process (verify + spend, SQLite full fsync)",
  `${(N / redeemSeconds).toFixed(0)} tokens/s`,
);
const again = await Promise.all(tokens.slice(0, 100).map((t) => svc.redeem(t)));
if (again.some((r) => r.ok)) throw new Error("a spent token was accepted again");
await quotaDb.close();
await store.close();
await Deno.remove(dir, { recursive: true });

// ---------------------------------------------------------------- over HTTP
const ADMIN = "bench-admin";
const HTTP_N = Math.min(N, 4000);
const node = await startNode({
  args: [
    "--quota",
    "tokens",
    "--admin-token",
    ADMIN,
    "--free-tokens",
    "0",
    "--rate-limit",
    "100000",
    "--rate-burst",
    "100000",
  ],
});
const open = await startNode({
  args: ["--quota", "open", "--rate-limit", "100000", "--rate-burst", "100000"],
});
try {
  const accounts = await Promise.all([0, 1].map(async () => {
    const res = await fetch(`${node.url}/admin/api/accounts`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ tokens: HTTP_N }),
    });
    return (await res.json()).account as string;
  }));
  t0 = performance.now();
  const halves = await Promise.all(
    accounts.map((a) => fetchTokens({ server: node.url, account: a, count: HTTP_N / 2 })),
  );
  const httpIssue = (performance.now() - t0) / 1000;
  log(
    "issuance over HTTP (2 wallets, batches of 100)",
    `${(HTTP_N / httpIssue).toFixed(0)} tokens/s`,
  );
  const httpTokens = halves.flatMap((h) => h.tokens);

  const postAll = async (url: string, withTokens: boolean) => {
    let i = 0;
    let created = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (i < HTTP_N) {
        const k = i++;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (withTokens) {
          headers.authorization = formatAuthorization(
            Uint8Array.fromBase64(httpTokens[k]!, { alphabet: "base64url" }),
          );
        }
        const res = await fetch(`${url}/v1/messages`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            tag: crypto.getRandomValues(new Uint8Array(20)).toHex(),
            payload: crypto.getRandomValues(new Uint8Array(256)).toBase64(),
          }),
        });
        await res.body?.cancel();
        if (res.status === 201) created++;
      }
    }));
    return { perSecond: HTTP_N / ((performance.now() - start) / 1000), created };
  };
  const base = await postAll(open.url, false);
  const paid = await postAll(node.url, true);
  if (paid.created !== HTTP_N) throw new Error(`only ${paid.created} posts with tokens accepted`);
  log(
    "POST /v1/messages, --quota open (baseline, 32 clients)",
    `${base.perSecond.toFixed(0)} msgs/s`,
  );
  log("POST /v1/messages with a token each (32 clients)", `${paid.perSecond.toFixed(0)} msgs/s`);
  log("ratio tokens / open", (paid.perSecond / base.perSecond).toFixed(2));
} finally {
  await Promise.all([node.stop(), open.stop()]);
  await Promise.all(
    [node, open].map((n) => Deno.remove(n.dataDir, { recursive: true }).catch(() => {})),
  );
}
console.log(JSON.stringify({ tokens: N, ...results }));
