/**
 * The wallet CLI as a person meets it, against real node processes: network errors that say
 * what failed (refused, unknown host, TLS) with retries shown; no token spent on a post the node
 * would refuse; a corrupt token followed by the next; token hints that work as printed;
 * signup and tokens through a real SOCKS5 proxy (Debian's dante-server); UNVERIFIED senders;
 * wallets whose keys do not match their address refused; the alias run from outside the
 * repository (INIT_CWD), the default wallet location and the config file; durations; help; and
 * `buy` end to end against the Esplora-speaking test backend.
 */
import assert from "node:assert/strict";
import {
  addressForKeys,
  encodeStealthAddress,
  fromHex,
  keysFromSecrets,
  SubspaceClient,
  utf8,
} from "../client/mod.ts";
import { readWalletTokens } from "../cli/tokens.ts";
import { freePort, hasDante, startDante } from "./_dante.ts";
import { fakeEsplora } from "./_esplora.ts";
import { type NodeProcess, startNode } from "./_node.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const ADMIN = "cli-admin-token";
const ANSWER = "abcde";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A sandbox: its own HOME and XDG folders, so no test reads the machine's wallet or config. */
async function sandbox() {
  const dir = await Deno.makeTempDir({ prefix: "subspace-cli-" });
  // The children get only these (and PATH): an inherited INIT_CWD (npx sets one) would say
  // where a different user stands.
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    NO_COLOR: "1",
    // Deno's cache lives under HOME by default: keep the real one.
    DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    HOME: `${dir}/home`,
    XDG_CONFIG_HOME: `${dir}/config`,
    XDG_DATA_HOME: `${dir}/data`,
  };
  await Deno.mkdir(env.HOME, { recursive: true });
  const cli = async (
    args: string[],
    opts: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
  ): Promise<Run> => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      cwd: opts.cwd ?? dir,
      clearEnv: true,
      env: { ...env, ...opts.env },
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(utf8.encode(opts.stdin));
      await w.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  const ok = async (args: string[], opts: Parameters<typeof cli>[1] = {}) => {
    const r = await cli(args, opts);
    assert.equal(r.code, 0, `subspace ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout;
  };
  return { dir, env, cli, ok, close: () => Deno.remove(dir, { recursive: true }) };
}

function tokenNode(extra: string[] = []): Promise<NodeProcess> {
  return startNode({
    args: ["--quota", "tokens", "--admin-token", ADMIN, "--free-tokens", "20", ...extra],
    env: { SUBSPACE_TEST_CAPTCHA_ANSWER: ANSWER },
  });
}

async function stopNode(n: NodeProcess): Promise<void> {
  await n.stop();
  await Deno.remove(n.dataDir, { recursive: true }).catch(() => {});
}

async function adminAccount(url: string): Promise<string> {
  const res = await fetch(`${url}/admin/api/accounts`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(res.status, 201);
  return (await res.json()).account;
}

const bobKeys = keysFromSecrets(fromHex("b1".repeat(32)), fromHex("b2".repeat(32)), "mainnet");
const BOB = encodeStealthAddress(addressForKeys(bobKeys, { prefixBits: 4 }));

Deno.test("cli: network errors say what failed and what to check; retries are shown", async () => {
  const s = await sandbox();
  const plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("{}"),
  );
  try {
    const refused = await s.cli([
      "send",
      "--server",
      `http://127.0.0.1:${freePort()}`,
      "--to",
      BOB,
      "--text",
      "x",
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /connection refused by 127\.0\.0\.1:\d+: is a Subspace node running there\?/,
    );
    // Each retry is announced with its delay, then the final error once.
    assert.match(refused.stderr, /retrying in \d+(\.\d)? (ms|s) \(attempt 2 of 4\)/);
    assert.doesNotMatch(refused.stderr, /fetch failed/);

    const dns = await s.cli([
      "send",
      "--server",
      "http://no-such-host.invalid",
      "--to",
      BOB,
      "--text",
      "x",
    ]);
    assert.equal(dns.code, 1);
    assert.match(dns.stderr, /cannot resolve no-such-host\.invalid: check the host name/);
    assert.doesNotMatch(dns.stderr, /retrying/, "an unknown host is not retried");

    const tls = await s.cli([
      "send",
      "--server",
      `https://127.0.0.1:${plain.addr.port}`,
      "--to",
      BOB,
      "--text",
      "x",
    ]);
    assert.equal(tls.code, 1);
    assert.match(
      tls.stderr,
      /TLS with 127\.0\.0\.1:\d+ failed .*if the node serves plain HTTP, use http:\/\//,
    );

    const signup = await s.cli(["signup", "--server", `http://127.0.0.1:${freePort()}`], {
      stdin: "x\n",
    });
    assert.equal(signup.code, 1);
    assert.match(signup.stderr, /connection refused by/);
  } finally {
    await plain.shutdown();
    await s.close();
  }
});

Deno.test("cli: tokens are never spent on a post the node would refuse; a corrupt token is skipped", async () => {
  const s = await sandbox();
  const node = await tokenNode([
    "--max-ttl",
    "1d",
    "--default-ttl",
    "1h",
    "--max-payload-bytes",
    "4KiB",
  ]);
  try {
    const alice = `${s.dir}/alice.json`;
    await s.ok(["keygen", "--wallet", alice, "--prefix-bits", "4", "--no-encrypt"]);
    const account = await adminAccount(node.url);
    await s.ok([
      "tokens",
      "--server",
      node.url,
      "--wallet",
      alice,
      "--account",
      account,
      "--count",
      "5",
    ]);
    const origin = new URL(node.url).origin;
    const send = (...rest: string[]) =>
      s.cli(["send", "--server", node.url, "--wallet", alice, "--to", BOB, ...rest]);
    const count = async () => (await readWalletTokens(alice))[origin]!.tokens.length;
    assert.equal(await count(), 5);

    const long = await send("--text", "x", "--ttl", "99999999");
    assert.equal(long.code, 2, long.stderr);
    assert.match(
      long.stderr,
      /ttl 99999999 s is longer than .* keeps messages \(at most 86400 s\)/,
    );
    assert.equal(await count(), 5, "no token spent");

    const big = await send("--text", "y".repeat(5000));
    assert.equal(big.code, 2, big.stderr);
    assert.match(big.stderr, /the envelope is \d+ bytes and .* takes at most 4096/);
    assert.equal(await count(), 5, "no token spent");

    // Durations everywhere: --ttl 2h.
    const sent = await send("--text", "2h", "--ttl", "2h", "--json");
    assert.equal(sent.code, 0, sent.stderr);
    const r = JSON.parse(sent.stdout);
    assert.ok(Math.abs(r.expires_at - (Date.now() / 1000 + 7200)) < 60, JSON.stringify(r));
    assert.equal(await count(), 4);

    // A corrupt first token: refused by the node, the next one is spent, the post goes through.
    const file = JSON.parse(await Deno.readTextFile(alice));
    const first: string = file.tokens[origin].tokens[0];
    file.tokens[origin].tokens[0] = first.slice(0, -8) +
      (first.endsWith("AAAAAAAA") ? "BBBBBBBB" : "AAAAAAAA");
    await Deno.writeTextFile(alice, JSON.stringify(file));
    assert.equal((await send("--text", "after corrupt")).code, 0);
    assert.equal(await count(), 2, "the corrupt token and one good one are gone");

    // Asking for more tokens than the account has: refused up front, with the number that works.
    const tooMany = await s.cli([
      "tokens",
      "--server",
      node.url,
      "--wallet",
      alice,
      "--count",
      "200",
    ]);
    assert.equal(tooMany.code, 1);
    const m = /Cannot fetch 200 tokens: the account has (\d+) left/.exec(tooMany.stderr);
    assert.ok(m, tooMany.stderr);
    assert.equal(Number(m[1]), 15);
    const hint = /subspace tokens .* --count (\d+)/.exec(tooMany.stderr);
    assert.equal(hint?.[1], "15");
    await s.ok(["tokens", "--server", node.url, "--wallet", alice, "--count", hint![1]!]);

    // Without a wallet: say that a wallet is needed, not "no tokens left".
    const noWallet = await s.cli(["send", "--server", node.url, "--to", BOB, "--text", "x"]);
    assert.equal(noWallet.code, 1);
    assert.match(noWallet.stderr, /No wallet given/);
    assert.doesNotMatch(noWallet.stderr, /Buy/);
  } finally {
    await stopNode(node);
    await s.close();
  }
});

Deno.test({
  name: "cli: signup and tokens go through a real SOCKS5 proxy (dante)",
  ignore: !hasDante,
  async fn() {
    const s = await sandbox();
    const node = await tokenNode();
    const dante = await startDante();
    let log = "";
    try {
      const proxy = dante.url;
      const alice = `${s.dir}/alice.json`;
      await s.ok(["keygen", "--wallet", alice, "--no-encrypt"]);
      const account = (await s.ok(
        ["signup", "--server", node.url, "--wallet", alice, "--proxy", proxy],
        { stdin: `${ANSWER}\n` },
      )).trim();
      assert.match(account, /^[0-9a-f]{32}$/);
      const got = JSON.parse(
        await s.ok([
          "tokens",
          "--server",
          node.url,
          "--wallet",
          alice,
          "--proxy",
          proxy,
          "--count",
          "3",
          "--json",
        ]),
      );
      assert.equal(got.fetched, 3);
      log = await dante.stop();
      // captcha, accounts (signup); info, directory, account, tokens: every one through dante.
      const tunnels = log.split("\n")
        .filter((l) => l.includes("tcp/connect") && l.includes(`127.0.0.1.${node.port}`)).length;
      assert.equal(tunnels, 6, `dante's tunnels to the node:\n${log}`);
      // The config file's proxy does the same: a dead one fails, nothing goes direct.
      await Deno.mkdir(`${s.env.XDG_CONFIG_HOME}/subspace`, { recursive: true });
      await Deno.writeTextFile(
        `${s.env.XDG_CONFIG_HOME}/subspace/config.json`,
        JSON.stringify({ proxy }),
      );
      const dead = await s.cli(["tokens", "--server", node.url, "--wallet", alice, "--count", "1"]);
      assert.equal(dead.code, 1);
      assert.match(
        dead.stderr,
        /through the proxy: the proxy 127\.0\.0\.1:\d+ refused the connection/,
      );
    } finally {
      if (log === "") await dante.stop();
      await stopNode(node);
      await s.close();
    }
  },
});

Deno.test("cli: UNVERIFIED senders, and wallets whose keys do not derive their address", async () => {
  const s = await sandbox();
  const node = await startNode();
  try {
    const bob = `${s.dir}/bob.json`;
    const bobAddress =
      (await s.ok(["keygen", "--wallet", bob, "--prefix-bits", "4", "--no-encrypt"])).trim();
    const mallory = keysFromSecrets(fromHex("c1".repeat(32)), fromHex("c2".repeat(32)), "mainnet");
    const alice = keysFromSecrets(fromHex("a1".repeat(32)), fromHex("a2".repeat(32)), "mainnet");
    const aliceAddress = encodeStealthAddress(addressForKeys(alice, { prefixBits: 4 }));
    const client = await SubspaceClient.create();
    const base = { type: "text" as const, createdTime: 1_700_000_000, memo: "" };
    // Mallory claims to be Alice (signs with her own key), then Alice signs for real.
    await client.send(node.url, bobAddress, {
      ...base,
      body: utf8.encode("claimed"),
      replyTo: aliceAddress,
    }, {
      signWith: mallory.spendSecret,
    });
    await client.send(node.url, bobAddress, {
      ...base,
      body: utf8.encode("real"),
      replyTo: aliceAddress,
    }, {
      signWith: alice.spendSecret,
    });
    const human = await s.ok(["inbox", "--server", node.url, "--wallet", bob]);
    const claimed = human.split("\n").find((l) => l.includes('"claimed"'))!;
    const real = human.split("\n").find((l) => l.includes('"real"'))!;
    assert.match(claimed, /UNVERIFIED/);
    assert.doesNotMatch(claimed, /\(signed\)/);
    assert.match(real, /\(signed\)/);
    assert.doesNotMatch(real, /UNVERIFIED/);
    // The sender's time beside the node's.
    assert.match(real, /\(sent 2023-11-14 22:13:20Z\)/);
    const json = (await s.ok(["inbox", "--server", node.url, "--wallet", bob, "--json"]))
      .trim().split("\n").map((l) => JSON.parse(l));
    const c = json.find((m) => m.text === "claimed");
    assert.deepEqual(c.sender_signature, { present: true, valid: true, matches_reply_to: false });
    assert.equal(c.verified, false);

    // A wallet whose spend key was swapped no longer loads.
    const file = JSON.parse(await Deno.readTextFile(bob));
    file.keys.spend_secret = "c2".repeat(32);
    await Deno.writeTextFile(bob, JSON.stringify(file));
    const bad = await s.cli(["inbox", "--server", node.url, "--wallet", bob]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /the keys do not belong to the wallet's address \(the spend key does not match/,
    );
  } finally {
    await stopNode(node);
    await s.close();
  }
});

Deno.test("cli: the alias works from any folder; default wallet outside the repository; config file", async () => {
  const s = await sandbox();
  const node = await startNode();
  try {
    const elsewhere = `${s.dir}/somewhere`;
    await Deno.mkdir(elsewhere);
    // README's alias: deno task --config <repo>/deno.json cli ...; paths are the user's.
    const task = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--config",
        `${ROOT}deno.json`,
        "cli",
        "keygen",
        "--wallet",
        "alice.json",
        "--no-encrypt",
      ],
      cwd: elsewhere,
      clearEnv: true,
      env: s.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(task.code, 0, new TextDecoder().decode(task.stderr));
    assert.ok((await Deno.stat(`${elsewhere}/alice.json`)).isFile);
    await assert.rejects(Deno.stat(`${ROOT}alice.json`));
    assert.match(new TextDecoder().decode(task.stderr), /Warning: the keys are stored unencrypted/);

    // No --wallet: the default location, outside any repository.
    const address = (await s.ok(["keygen", "--no-encrypt"])).trim();
    const defaultWallet = `${s.env.XDG_DATA_HOME}/subspace/wallet.json`;
    assert.equal(JSON.parse(await Deno.readTextFile(defaultWallet)).address, address);
    assert.equal((await Deno.stat(defaultWallet)).mode! & 0o777, 0o600);

    // The config file names the server: no --server, no --wallet.
    await Deno.mkdir(`${s.env.XDG_CONFIG_HOME}/subspace`, { recursive: true });
    await Deno.writeTextFile(
      `${s.env.XDG_CONFIG_HOME}/subspace/config.json`,
      JSON.stringify({ server: node.url }),
    );
    await s.ok(["send", "--to", address, "--text", "to myself"]);
    const inbox = await s.ok(["inbox", "--json"]);
    assert.equal(JSON.parse(inbox.trim()).text, "to myself");
    assert.equal(JSON.parse(inbox.trim()).verified, true, "signed with the default wallet");

    await Deno.writeTextFile(
      `${s.env.XDG_CONFIG_HOME}/subspace/config.json`,
      JSON.stringify({ server: 7, colour: "blue" }),
    );
    const bad = await s.cli(["inbox"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /'server' must be a string; unknown key 'colour'/);
  } finally {
    await stopNode(node);
    await s.close();
  }
});

Deno.test("cli: help lists --version, aligns its columns and shows human defaults", async () => {
  const s = await sandbox();
  try {
    const top = await s.ok(["--help"]);
    assert.match(top, /--version/);
    assert.match(top, /buy /);
    assert.match(await s.ok(["--version"]), /^\d+\.\d+\.\d+\n$/);
    for (
      const cmd of [
        "send",
        "request",
        "pay",
        "inbox",
        "tokens",
        "signup",
        "keygen",
        "buy",
        "address",
      ]
    ) {
      const help = await s.ok([cmd, "--help"]);
      const rows = help.split("\n").filter((l) =>
        /^ {2}--\S/.test(l) && / {2,}\S/.test(l.slice(3))
      );
      const columns = new Set(
        rows.map((l) =>
          l.search(/(?<=\S) {2,}\S/) + (/(?<=\S)( {2,})\S/.exec(l)?.[1]?.length ?? 0)
        ),
      );
      assert.equal(columns.size, 1, `${cmd}: descriptions start in one column:\n${help}`);
      assert.doesNotMatch(help, /\(default \)|\d{4,} ?s\b|SECONDS/, `${cmd}: human defaults`);
    }
    assert.match(await s.ok(["send", "--help"]), /--ttl DURATION .*2h, 7d/);
    // serve's help too: human defaults, none shown for an empty list.
    const serve = await s.ok(["serve", "--help"]);
    assert.doesNotMatch(serve, /\(default \)/, "serve: no empty defaults");
    assert.doesNotMatch(serve, /--\S*(ttl|interval|timeout)\S* .*\(default \d+\)/, "seconds");
    assert.match(serve, /--default-ttl +.*\(default 7d\)/);
    assert.match(serve, /--max-store-bytes +.*\(default 10GiB\)/);
    // A mainnet Bitcoin address for a testnet recipient is named as such.
    const tKeys = keysFromSecrets(fromHex("d1".repeat(32)), fromHex("d2".repeat(32)), "testnet");
    const tAddr = encodeStealthAddress(addressForKeys(tKeys, { prefixBits: 4 }));
    const r = await s.cli([
      "request",
      "--server",
      "http://127.0.0.1:1",
      "--to",
      tAddr,
      "--amount",
      "1000",
      "--pay-to",
      "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a mainnet address, but this is for testnet/);
  } finally {
    await s.close();
  }
});

const XPUB =
  "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";

Deno.test("cli: buy shows a BIP21 URI and QR code, waits for the payment, fetches the tokens", async () => {
  const s = await sandbox();
  const esplora = fakeEsplora();
  const node = await tokenNode([
    "--free-tokens",
    "0",
    "--fee-xpub",
    XPUB,
    "--esplora-url",
    esplora.url,
    "--bundle-price-sats",
    "5000",
    "--tokens-per-bundle",
    "10",
    "--confirmations",
    "0",
    "--esplora-poll-interval",
    "1",
  ]);
  try {
    const alice = `${s.dir}/alice.json`;
    await s.ok(["keygen", "--wallet", alice, "--no-encrypt"]);
    await s.ok(["signup", "--server", node.url, "--wallet", alice], { stdin: `${ANSWER}\n` });
    // The out-of-tokens hint names buy on a node that sells.
    const out = await s.cli([
      "send",
      "--server",
      node.url,
      "--wallet",
      alice,
      "--to",
      BOB,
      "--text",
      "x",
    ]);
    assert.match(out.stderr, /subspace buy --server .* --bundles 1 +\(10 tokens for 5000 sats\)/);

    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "buy", "--server", node.url, "--wallet", alice, "--poll", "1"],
      cwd: s.dir,
      clearEnv: true,
      env: s.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    while (!stdout.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    const uri = stdout.split("\n")[0]!;
    const m = /^bitcoin:([a-zA-Z0-9]+)\?amount=0\.00005&/.exec(uri);
    assert.ok(m, `a BIP21 URI first: ${stdout}`);
    esplora.state.txs.push({ txid: "11".repeat(32), to: m[1]!, value: 5000 });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    const status = await child.status;
    const err = await stderr;
    assert.equal(status.code, 0, err);
    assert.match(err, /Pay 5000 sats to .* for 10 tokens/);
    assert.match(err, /█▀|▀█|▄/, "a QR code");
    assert.match(stdout, /paid: fetched 10 tokens; 10 stored/);
    assert.equal((await readWalletTokens(alice))[new URL(node.url).origin]!.tokens.length, 10);
  } finally {
    await stopNode(node);
    await esplora.close();
    await s.close();
  }
});

const SCRIPT = "/usr/bin/script";

Deno.test({
  name: "cli: keygen on a terminal offers encryption; an empty passphrase is warned about",
  ignore: (() => {
    try {
      Deno.statSync(SCRIPT);
      return false;
    } catch {
      console.warn(`SKIP: ${SCRIPT} (util-linux) is missing`);
      return true;
    }
  })(),
  async fn() {
    const s = await sandbox();
    try {
      // `script` runs keygen on a pseudo-terminal and types what we write.
      const onTerminal = async (wallet: string, typed: string) => {
        const command = [Deno.execPath(), "run", "-A", MAIN, "keygen", "--wallet", wallet]
          .map((a) => `'${a}'`).join(" ");
        const child = new Deno.Command(SCRIPT, {
          args: ["-qec", command, "/dev/null"],
          cwd: s.dir,
          clearEnv: true,
          env: s.env,
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const w = child.stdin.getWriter();
        await w.write(utf8.encode(typed));
        const out = await child.output(); // stdin stays open until keygen is done
        await w.close().catch(() => {});
        return { code: out.code, text: new TextDecoder().decode(out.stdout) };
      };
      const enc = await onTerminal(`${s.dir}/enc.json`, "pw1234\rpw1234\r");
      assert.equal(enc.code, 0, enc.text);
      assert.match(enc.text, /Passphrase to encrypt the wallet/);
      assert.match(enc.text, /Repeat passphrase/);
      const file = JSON.parse(await Deno.readTextFile(`${s.dir}/enc.json`));
      assert.equal(file.keys, undefined);
      assert.equal(file.encrypted_keys.kdf, "scrypt");
      const unlocked = await s.cli(["address", "--wallet", `${s.dir}/enc.json`]);
      assert.equal(unlocked.code, 0, "the address reads without the passphrase");

      const plain = await onTerminal(`${s.dir}/plain.json`, "\r");
      assert.equal(plain.code, 0, plain.text);
      assert.match(plain.text, /Warning: the keys are stored unencrypted/);
      assert.ok(JSON.parse(await Deno.readTextFile(`${s.dir}/plain.json`)).keys);
    } finally {
      await s.close();
    }
  },
});
