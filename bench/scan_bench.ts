/**
 * Recipient scanning benchmark: how many envelopes addressed to others a wallet can reject per
 * second on one core (trial decryption), against the raw ECDH rate measured in the same run.
 *
 *   deno run -A bench/scan_bench.ts [--envelopes N] [--json]
 *
 * Reports, for node:crypto ECDH (what the CLI uses under Deno) and pure-noble ECDH (browsers):
 * raw ECDH/s, trial-decrypt/s on envelope bytes, trial-decrypt/s on the base64 wire payload, and
 * the ratio trial/raw. Targets (issue 3): >= 5,000 envelopes/s and >= 80% of raw ECDH.
 *
 * @module
 */
import * as secp from "@noble/secp256k1";
import { toBase64, utf8 } from "../client/mod.ts";
import { type EcdhBackend, loadNodeEcdh, nobleEcdh } from "../client/ecdh.ts";
import { EnvelopeOpener, seal } from "../client/envelope.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};
const N = Number(flag("envelopes") ?? "6000");
const json = args.includes("--json");

const node = await loadNodeEcdh();
if (node === undefined) throw new Error("node:crypto ECDH unavailable");

// Envelopes for someone else, each with its own ephemeral key.
const other = secp.utils.randomSecretKey();
const otherPub = secp.getPublicKey(other, true);
const envelopes: { tag: Uint8Array; envelope: Uint8Array; b64: string }[] = [];
const message = utf8.encode("a short payment note ".repeat(4));
for (let i = 0; i < N; i++) {
  const s = seal({ scanPubkey: otherPub, prefix: new Uint8Array(0), prefixBits: 0 }, message, {
    ecdh: node,
  });
  envelopes.push({ ...s, b64: toBase64(s.envelope) });
}
const me = secp.utils.randomSecretKey();
const keys = { scanSecret: me, scanPubkey: secp.getPublicKey(me, true) };

function rate(count: number, f: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) f(i);
  return count / ((performance.now() - t0) / 1000);
}

function measure(backend: EcdhBackend, count: number) {
  const shared = backend.forSecret(me);
  const opener = new EnvelopeOpener(keys, backend);
  const pubs = envelopes.map((e) => e.envelope.subarray(1, 34));
  const warm = Math.min(200, count);
  rate(warm, (i) => shared(pubs[i]!));
  rate(warm, (i) => opener.open(envelopes[i]!.tag, envelopes[i]!.envelope));
  // Interleave rounds so that drift (other load on the machine) hits all three alike.
  const rounds = 3;
  const per = Math.floor(count / rounds);
  let raw = 0, trial = 0, wire = 0;
  for (let r = 0; r < rounds; r++) {
    const off = r * per;
    raw += rate(per, (i) => {
      if (shared(pubs[off + i]!) === null) throw new Error("ECDH failed");
    });
    trial += rate(per, (i) => {
      const e = envelopes[off + i]!;
      if (opener.open(e.tag, e.envelope) !== null) throw new Error("opened a foreign envelope");
    });
    wire += rate(per, (i) => {
      const e = envelopes[off + i]!;
      if (opener.openBase64(e.tag, e.b64) !== null) throw new Error("opened a foreign envelope");
    });
  }
  return {
    backend: backend.name,
    envelopes: per * rounds,
    raw_ecdh_per_s: Math.round(raw / rounds),
    trial_decrypt_per_s: Math.round(trial / rounds),
    trial_decrypt_base64_per_s: Math.round(wire / rounds),
    ratio_trial_to_raw: Number((trial / raw).toFixed(3)),
    ratio_base64_to_raw: Number((wire / raw).toFixed(3)),
  };
}

const results = [measure(node, N), measure(nobleEcdh, Math.min(N, 1500))];
if (json) {
  console.log(JSON.stringify({ deno: Deno.version.deno, envelope_bytes: 256, results }, null, 2));
} else {
  console.log(`Deno ${Deno.version.deno}, ${N} envelopes of 256 bytes addressed to someone else\n`);
  console.log(
    "| ECDH backend | raw ECDH/s | trial-decrypt/s (bytes) | trial-decrypt/s (base64) | trial/raw | base64/raw |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(
      `| ${r.backend} | ${r.raw_ecdh_per_s} | ${r.trial_decrypt_per_s} | ${r.trial_decrypt_base64_per_s} | ${
        (r.ratio_trial_to_raw * 100).toFixed(1)
      }% | ${(r.ratio_base64_to_raw * 100).toFixed(1)}% |`,
    );
  }
}
