/**
 * End to end: the wallet CLI against real node processes. keygen, send, inbox --json sees the
 * message; a BIP70 PaymentRequest and a PSBT survive the trip byte for byte; request/pay;
 * encrypted wallets; several servers; inbox --watch.
 */
import assert from "node:assert/strict";
import { NETWORK, p2wpkh, Transaction } from "@scure/btc-signer";
import { startNode } from "./_node.ts";
import { main } from "../cli/mod.ts";
import {
  buildPaymentRequest,
  decodeStealthAddress,
  fromBase64,
  fromHex,
  keysFromSecrets,
  scriptForAddress,
  SubspaceClient,
  toBase64,
  toHex,
  utf8,
} from "../client/mod.ts";
import * as secp from "@noble/secp256k1";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await cli(args, env);
  assert.equal(r.code, 0, `subspace ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/**
 * Runs a command line in this process (same dispatcher as main.ts), capturing console output.
 * Used for the many bad-input cases, where spawning a process each would be slow.
 */
async function inProcess(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" ") + "\n");
  console.error = (...a: unknown[]) => err.push(a.join(" ") + "\n");
  try {
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function jsonLines(s: string): Record<string, unknown>[] {
  return s.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

function samplePsbt(): Uint8Array {
  const key = fromHex("07".repeat(32));
  const pay = p2wpkh(secp.getPublicKey(key, true), NETWORK);
  const tx = new Transaction();
  tx.addInput({
    txid: "ab".repeat(32),
    index: 1,
    witnessUtxo: { script: pay.script, amount: 90_000n },
  });
  tx.addOutputAddress("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", 80_000n, NETWORK);
  return tx.toPSBT();
}

Deno.test("wallet CLI end to end against real nodes", async (t) => {
  // Open quota: these tests are about the wallet; tokens have their own end-to-end tests.
  const nodeA = await startNode({ args: ["--quota", "open"] });
  const nodeB = await startNode({ args: ["--quota", "open"] });
  const dir = await Deno.makeTempDir({ prefix: "subspace-wallet-e2e-" });
  try {
    const alice = `${dir}/alice.json`;
    const bob = `${dir}/bob.json`;
    let aliceAddr = "";
    let bobAddr = "";

    await t.step("keygen writes 0600 wallets and prints the address", async () => {
      const r = await cli(["keygen", "--wallet", alice, "--prefix-bits", "4"]);
      assert.equal(r.code, 0, r.stderr);
      aliceAddr = r.stdout.trim();
      assert.equal(decodeStealthAddress(aliceAddr).prefixBits, 4);
      const words = /\n {2}([a-z ]+)\n/.exec(r.stderr)?.[1]?.split(" ") ?? [];
      assert.equal(words.length, 24, "mnemonic shown once on stderr");
      assert.ok(!(await Deno.readTextFile(alice)).includes(words[0]! + " " + words[1]!));
      assert.equal((await Deno.stat(alice)).mode! & 0o777, 0o600);
      bobAddr = (await ok(["keygen", "--wallet", bob, "--prefix-bits", "2"])).trim();
      assert.equal((await ok(["address", "--wallet", alice])).trim(), aliceAddr);
      const fields = JSON.parse(await ok(["address", "--decode", aliceAddr]));
      assert.deepEqual(Object.keys(fields).sort(), [
        "network",
        "options",
        "prefix",
        "prefix_bits",
        "scan_pubkey",
        "signatures",
        "spend_pubkeys",
        "version",
      ]);
      assert.equal(fields.version, 0x2a);
      // Refuses to overwrite.
      const again = await cli(["keygen", "--wallet", alice]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);
    });

    await t.step("send text; inbox --json sees it, signed by the reply-to owner", async () => {
      const id = (await ok([
        "send",
        "--server",
        nodeA.url,
        "--to",
        aliceAddr,
        "--text",
        "hello alice",
        "--memo",
        "greeting",
        "--wallet",
        bob,
      ])).trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      const lines = jsonLines(
        await ok(["inbox", "--server", nodeA.url, "--wallet", alice, "--json"]),
      );
      assert.equal(lines.length, 1);
      const m = lines[0]!;
      assert.equal(m.id, id);
      assert.equal(m.type, "text");
      assert.equal(m.text, "hello alice");
      assert.equal(m.memo, "greeting");
      assert.equal(m.reply_to, bobAddr);
      assert.deepEqual(m.sender_signature, { present: true, valid: true, matches_reply_to: true });
      // Bob sees nothing: the message is not his.
      const bobLines = jsonLines(
        await ok(["inbox", "--server", nodeA.url, "--wallet", bob, "--json"]),
      );
      assert.equal(bobLines.length, 0);
    });

    await t.step("a BIP70 PaymentRequest and a PSBT survive byte for byte", async () => {
      const req = buildPaymentRequest({
        network: "main",
        outputs: [{
          amount: 42_000,
          script: scriptForAddress("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "main"),
        }],
        time: 1_700_000_000,
        expires: 1_900_000_000,
        memo: "order 1",
        merchantData: utf8.encode("opaque"),
      });
      const psbt = samplePsbt();
      await Deno.writeFile(`${dir}/req.bin`, req);
      await Deno.writeFile(`${dir}/tx.psbt`, psbt);
      await Deno.writeTextFile(`${dir}/tx.psbt.b64`, toBase64(psbt) + "\n");
      const reqId = (await ok([
        "send",
        "--server",
        nodeB.url,
        "--to",
        aliceAddr,
        "--payment-request",
        `${dir}/req.bin`,
      ])).trim();
      const psbtId =
        (await ok(["send", "--server", nodeB.url, "--to", aliceAddr, "--psbt", `${dir}/tx.psbt`]))
          .trim();
      const psbt64Id = (await ok([
        "send",
        "--server",
        nodeB.url,
        "--to",
        aliceAddr,
        "--psbt",
        `${dir}/tx.psbt.b64`,
      ])).trim();
      const lines = jsonLines(
        await ok(["inbox", "--server", nodeB.url, "--wallet", alice, "--json"]),
      );
      const byId = new Map(lines.map((l) => [l.id, l]));
      const r = byId.get(reqId)!;
      assert.equal(r.type, "payment_request");
      assert.equal(toHex(fromBase64(r.body as string)), toHex(req));
      assert.equal((r.payment_request as { amount: number }).amount, 42_000);
      // Outputs name their address, on the request's network.
      const outs = (r.payment_request as { outputs: { address: string }[] }).outputs;
      assert.equal(outs[0]!.address, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
      for (const id of [psbtId, psbt64Id]) {
        const p = byId.get(id)!;
        assert.equal(p.type, "psbt");
        assert.equal(toHex(fromBase64(p.body as string)), toHex(psbt));
        const j = p.psbt as {
          inputs: number;
          outputs: number;
          output_list: unknown[];
          fee: number;
        };
        assert.equal(j.fee, 10_000);
        assert.equal(j.inputs, 1);
        assert.equal(j.outputs, 1);
        assert.equal(j.output_list.length, 1);
        assert.deepEqual(j.output_list[0], {
          amount: 80_000,
          script: "0014751e76e8199196d454941c45d1b3a323f1433bd6",
          address: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        });
      }
    });

    await t.step("request and pay commands", async () => {
      const reqId = (await ok([
        "request",
        "--server",
        nodeA.url,
        "--to",
        bobAddr,
        "--amount",
        "15000",
        "--pay-to",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "--memo",
        "coffee",
        "--expires",
        "2h",
        "--wallet",
        alice,
      ])).trim();
      const bobLines = jsonLines(
        await ok(["inbox", "--server", nodeA.url, "--wallet", bob, "--json"]),
      );
      const r = bobLines.find((l) => l.id === reqId)!;
      const pr = r.payment_request as {
        amount: number;
        memo: string;
        network: string;
        expires: number;
        outputs: { script: string }[];
      };
      assert.equal(pr.amount, 15000);
      assert.equal(pr.memo, "coffee");
      assert.equal(pr.network, "main");
      assert.equal(pr.outputs[0]!.script, "0014751e76e8199196d454941c45d1b3a323f1433bd6");
      assert.ok(pr.expires > Date.now() / 1000 + 7000);
      assert.equal(r.reply_to, aliceAddr);
      const tx = "02000000000100000000000000000000";
      const payId = (await ok([
        "pay",
        "--server",
        nodeA.url,
        "--to",
        r.reply_to as string,
        "--tx",
        tx,
        "--memo",
        "paid",
        "--refund-to",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
      ])).trim();
      const aliceLines = jsonLines(
        await ok(["inbox", "--server", nodeA.url, "--wallet", alice, "--json"]),
      );
      const p = aliceLines.find((l) => l.id === payId)!;
      assert.equal(p.type, "payment");
      assert.deepEqual((p.payment as { transactions: string[] }).transactions, [tx]);
    });

    await t.step("several servers: one inbox reads both, each message once", async () => {
      const lines = jsonLines(
        await ok([
          "inbox",
          "--server",
          nodeA.url,
          "--server",
          nodeB.url,
          "--wallet",
          alice,
          "--json",
        ]),
      );
      const servers = new Set(lines.map((l) => l.server));
      assert.equal(servers.size, 2);
      assert.equal(new Set(lines.map((l) => l.id)).size, lines.length);
      assert.equal(lines.length, 5); // text + payment (A) + request + 2 PSBTs (B)
      // The human-readable form prints one line per message.
      const human = await ok([
        "inbox",
        "--server",
        nodeA.url,
        "--server",
        nodeB.url,
        "--wallet",
        alice,
      ]);
      assert.equal(human.trim().split("\n").length, 5);
      assert.match(human, /payment request: 42,000 sat to /);
      // The progress bar goes to stderr (forced here: stderr is not a terminal).
      const bar = await cli(["inbox", "--server", nodeB.url, "--wallet", alice, "--progress"]);
      assert.equal(bar.code, 0, bar.stderr);
      assert.match(bar.stderr, /scanned █+ \d+ envelopes, 3 for you, \d+\/s 100%/);
      assert.equal(bar.stdout.trim().split("\n").length, 3);
    });

    await t.step("library: one watch over several servers yields what each holds", async () => {
      const client = await SubspaceClient.create();
      const keys = keysFromSecrets(fromHex("c1".repeat(32)), fromHex("c2".repeat(32)), "mainnet");
      const addr = {
        version: 0x2a,
        options: 0,
        scanPubkey: keys.scanPubkey,
        spendPubkeys: [keys.spendPubkey],
        signatures: 1,
        prefixBits: 3,
        prefix: fromHex("e0"),
      };
      const text = (s: string) => ({
        type: "text" as const,
        createdTime: 1,
        memo: "",
        body: utf8.encode(s),
      });
      const one = await client.send(nodeA.url, addr, text("on A"));
      const two = await client.send(nodeB.url, addr, text("on B"));
      const got = [];
      for await (
        const m of client.watch({ ...keys, prefix: addr.prefix, prefixBits: 3 }, {
          servers: [nodeB.url, nodeA.url],
          follow: false,
        })
      ) {
        got.push(m.id);
      }
      assert.deepEqual(got.sort(), [one.id, two.id].sort());
    });

    await t.step("inbox --watch prints new messages as they arrive", async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "inbox",
          "--server",
          nodeA.url,
          "--wallet",
          bob,
          "--json",
          "--watch",
          "--wait",
          "5",
        ],
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      try {
        // The first watch resumes from the cursor saved by earlier runs, so old messages are skipped.
        await new Promise((r) => setTimeout(r, 1500));
        const id = (await ok(["send", "--server", nodeA.url, "--to", bobAddr, "--text", "live!"]))
          .trim();
        let buf = "";
        while (!buf.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
        }
        const first = JSON.parse(buf.split("\n")[0]!);
        assert.equal(first.id, id);
        assert.equal(first.text, "live!");
      } finally {
        child.kill("SIGINT");
        const status = await child.status;
        await reader.cancel().catch(() => {});
        const err = await stderr;
        assert.equal(status.code, 0, err);
      }
    });

    await t.step(
      "encrypted wallet: passphrase from the environment, wrong one refused",
      async () => {
        const enc = `${dir}/enc.json`;
        const addr =
          (await ok(["keygen", "--wallet", enc, "--passphrase-env", "PW", "--prefix-bits", "1"], {
            PW: "correct horse",
          })).trim();
        const file = await Deno.readTextFile(enc);
        assert.ok(file.includes("encrypted_keys") && !file.includes("scan_secret"));
        assert.equal((await inProcess(["address", "--wallet", enc])).stdout.trim(), addr);
        await ok(["send", "--server", nodeA.url, "--to", addr, "--text", "secret"]);
        const lines = jsonLines(
          await ok([
            "inbox",
            "--server",
            nodeA.url,
            "--wallet",
            enc,
            "--json",
            "--passphrase-env",
            "PW",
          ], { PW: "correct horse" }),
        );
        assert.equal(lines.length, 1);
        assert.equal(lines[0]!.text, "secret");
        Deno.env.set("SUBSPACE_E2E_WRONG_PW", "wrong");
        const wrong = await inProcess([
          "inbox",
          "--server",
          nodeA.url,
          "--wallet",
          enc,
          "--passphrase-env",
          "SUBSPACE_E2E_WRONG_PW",
        ]);
        assert.equal(wrong.code, 1);
        assert.equal(wrong.stderr.trim(), `subspace inbox: wrong passphrase for ${enc}`);
        const none = await inProcess(["inbox", "--server", nodeA.url, "--wallet", enc]);
        assert.equal(none.code, 2);
        assert.match(none.stderr, /is encrypted: give --passphrase-env/);
      },
    );

    await t.step("bad input: one-line errors and non-zero exit", async () => {
      const cases: [string[], number, RegExp][] = [
        [
          ["send", "--server", nodeA.url, "--to", "nonsense0", "--text", "x"],
          2,
          /--to: Cannot decode stealth address/,
        ],
        [["send", "--server", nodeA.url, "--to", aliceAddr], 2, /exactly one of --text/],
        [["send", "--server", "ftp://x", "--to", aliceAddr, "--text", "x"], 2, /--server must be/],
        [
          ["send", "--server", nodeA.url, "--to", aliceAddr, "--psbt", `${dir}/alice.json`],
          2,
          /PSBT/,
        ],
        [
          [
            "send",
            "--server",
            nodeA.url,
            "--to",
            aliceAddr,
            "--payment-request",
            `${dir}/missing.bin`,
          ],
          2,
          /cannot read/,
        ],
        [
          ["request", "--server", nodeA.url, "--to", aliceAddr, "--amount", "-5", "--pay-to", "x"],
          2,
          /--amount must be/,
        ],
        [
          [
            "request",
            "--server",
            nodeA.url,
            "--to",
            aliceAddr,
            "--amount",
            "5",
            "--pay-to",
            "tb1qnotreal",
          ],
          2,
          /--pay-to/,
        ],
        [["pay", "--server", nodeA.url, "--to", aliceAddr], 2, /missing required flag --tx/],
        [
          ["keygen", "--wallet", `${dir}/x.json`, "--prefix-bits", "40"],
          2,
          /--prefix-bits must be an integer 0\.\.32/,
        ],
        [
          [
            "address",
            "--decode",
            "vJmzLu29obZcUGXXgotapfQLUpz7dfnZpbr4xg1R75qctf8xaXAteRdi3ZUk3T2ZMSad5KyPbve7uyH6eswYAxLHRVSbWgNUeoGuXq",
          ],
          2,
          /checksum mismatch/,
        ],
        [["inbox", "--server", nodeA.url, "--wallet", `${dir}/missing.json`], 1, /not found/],
        [
          ["send", "--server", "http://127.0.0.1:1", "--to", aliceAddr, "--text", "x", "--bogus"],
          2,
          /unknown flag --bogus/,
        ],
      ];
      for (const [args, code, pattern] of cases) {
        const r = await inProcess(args);
        assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
        assert.match(r.stderr, pattern);
      }
      for (const cmd of ["keygen", "address", "send", "inbox", "request", "pay"]) {
        const r = await inProcess([cmd, "--help"]);
        assert.equal(r.code, 0);
        assert.match(r.stdout, new RegExp(`Usage: subspace ${cmd}`));
      }
    });
  } finally {
    await nodeA.stop();
    await nodeB.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
