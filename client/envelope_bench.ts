/**
 * `deno bench client/envelope_bench.ts`: hot functions of the envelope, per call.
 * The scanning benchmark with ratios against raw ECDH is `bench/scan_bench.ts`.
 */
import { loadNodeEcdh, nobleEcdh } from "./ecdh.ts";
import { EnvelopeOpener, seal } from "./envelope.ts";
import { utf8 } from "./bytes.ts";
import { secp } from "./_secp.ts";

const node = (await loadNodeEcdh())!;
const other = secp.utils.randomSecretKey();
const recipient = {
  scanPubkey: secp.getPublicKey(other, true),
  prefix: Uint8Array.of(0xab),
  prefixBits: 8,
};
const me = secp.utils.randomSecretKey();
const mine = { scanSecret: me, scanPubkey: secp.getPublicKey(me, true) };
const sealed = Array.from(
  { length: 64 },
  () => seal(recipient, utf8.encode("bench"), { ecdh: node }),
);
const nodeShared = node.forSecret(me);
const nobleShared = nobleEcdh.forSecret(me);
const nodeOpener = new EnvelopeOpener(mine, node);
const nobleOpener = new EnvelopeOpener(mine, nobleEcdh);
let i = 0;
const next = () => sealed[i++ & 63]!;

Deno.bench("raw ECDH (node:crypto)", { group: "node", baseline: true }, () => {
  nodeShared(next().envelope.subarray(1, 34));
});
Deno.bench("trial-decrypt foreign envelope (node:crypto)", { group: "node" }, () => {
  const s = next();
  nodeOpener.open(s.tag, s.envelope);
});
Deno.bench("raw ECDH (noble)", { group: "noble", baseline: true }, () => {
  nobleShared(next().envelope.subarray(1, 34));
});
Deno.bench("trial-decrypt foreign envelope (noble)", { group: "noble" }, () => {
  const s = next();
  nobleOpener.open(s.tag, s.envelope);
});
Deno.bench("seal 14-byte text (node:crypto ECDH)", () => {
  seal(recipient, utf8.encode("hello subspace"), { ecdh: node });
});
