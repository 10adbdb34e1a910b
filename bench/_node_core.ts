/**
 * A bench-only node entry: `startNode(config, { features })` with the core and only the
 * features a load run names, listening on a socket. It is the same core code path as
 * `subspace serve`, for runs where the full feature list is not wanted (or does not build).
 *
 * Run: `deno run -A bench/_node_core.ts [--bench-feature NAME]... <serve flags>`;
 * prints `{"port": N}` on stdout once it listens and shuts down gracefully on SIGTERM.
 *
 * `--bench-feature tokens` installs a stand-in for the quota feature's redemption: per POST it
 * verifies one real RSASSA-PSS token signature (2048-bit, the CPU cost of a redemption) and
 * spends a fresh nonce as the quota feature does (claimed in its `SpentSet`, recorded in the
 * message's own commit), so the load needs no issued tokens. `spend` is the database half
 * alone, `verify` the signature half alone. `null-store` answers every insert at once without
 * writing it (the node's own ceiling: HTTP, checks and the writer, no storage engine). NAME is one
 * of federation, tokens, spend, verify, null-store.
 *
 * @module
 */
import { loadConfig, QUOTA_POLICY, startNode } from "../node/mod.ts";
import type { Feature } from "../node/mod.ts";
import { federationFeature } from "../node/dht/mod.ts";
import { HttpError } from "../node/errors.ts";
import { SpentSet } from "../node/quota/spent.ts";
import { blind, blindSign, finalize, rsaPrivateKey, verify } from "../node/quota/blind_rsa.ts";
import { generateIssuerKey } from "../node/quota/issuer_keys.ts";
import { storedAs } from "../node/store/row.ts";

/**
 * A token redemption per POST: a real signature check (when `verifies`) and the spend of a
 * fresh nonce (when `spends`).
 */
async function benchTokensFeature(verifies: boolean, spends: boolean): Promise<Feature> {
  const sk = rsaPrivateKey(await generateIssuerKey());
  const msg = crypto.getRandomValues(new Uint8Array(98));
  const b = blind(sk.publicKey, msg);
  const sig = finalize(sk.publicKey, msg, blindSign(sk, b.blindedMsg), b.inv);
  return {
    name: "bench-tokens",
    install(core) {
      const spent = new SpentSet(core.store);
      const expiresAt = Date.now() + 86_400_000;
      core.provide(QUOTA_POLICY, {
        mode: "tokens",
        charge() {
          if (verifies && !verify(sk.publicKey, msg, sig)) throw new HttpError(401, "bad token");
          if (!spends) return Promise.resolve();
          // As the quota feature does: claimed here, spent in the message's own commit.
          const nonce = crypto.getRandomValues(new Uint8Array(32));
          if (!spent.claim(nonce)) throw new HttpError(401, "spent");
          return Promise.resolve({
            spend: { nonce, expiresAt },
            settle: (result: "stored" | "spent" | "failed") => {
              if (result === "failed") spent.release(nonce);
              return result === "spent" ? new HttpError(401, "spent") : undefined;
            },
          });
        },
      });
      return Promise.resolve({});
    },
  };
}

const args = [...Deno.args];
const wanted = new Set<string>();
for (let i = args.indexOf("--bench-feature"); i >= 0; i = args.indexOf("--bench-feature")) {
  wanted.add(args[i + 1] ?? "");
  args.splice(i, 2);
}
const features: Feature[] = [];
if (wanted.has("tokens")) features.push(await benchTokensFeature(true, true));
if (wanted.has("spend")) features.push(await benchTokensFeature(false, true));
if (wanted.has("verify")) features.push(await benchTokensFeature(true, false));
if (wanted.has("federation")) features.push(federationFeature());
const config = loadConfig({ args, env: Deno.env.toObject() });
const node = await startNode(config, { features });
if (wanted.has("null-store")) {
  let seq = 1;
  node.core.store.insertBatch = (messages) =>
    Promise.resolve(messages.map((m) => ({ message: storedAs(m, seq++), inserted: true })));
}
console.log(JSON.stringify({ port: node.port }));
const stopped = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => stopped.resolve());
Deno.addSignalListener("SIGINT", () => stopped.resolve());
await stopped.promise;
await node.close();
Deno.exit(0);
