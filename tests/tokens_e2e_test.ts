/**
 * End to end with real node processes and the wallet CLI: captcha signup, tokens, send (one
 * token per message), inbox; out-of-tokens help; a spent, forged or foreign token refused;
 * 100 concurrent redemptions of one token over HTTP: exactly one succeeds.
 */
import assert from "node:assert/strict";
import { startNode } from "./_node.ts";
import { fetchTokens, readWalletTokens } from "../cli/tokens.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ADMIN = "e2e-admin-token";
const ANSWER = "abcde";

async function cli(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await cli(args, stdin);
  assert.equal(r.code, 0, `subspace ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

function tokenNode(extra: string[] = []) {
  return startNode({
    args: ["--quota", "tokens", "--admin-token", ADMIN, "--free-tokens", "4", ...extra],
    env: { SUBSPACE_TEST_CAPTCHA_ANSWER: ANSWER },
  });
}

async function adminAccount(url: string): Promise<string> {
  const res = await fetch(`${url}/admin/api/accounts`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(res.status, 201);
  return (await res.json()).account;
}

function post(url: string, token?: string): Promise<Response> {
  const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
  const payload = crypto.getRandomValues(new Uint8Array(32)).toBase64();
  return fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `PrivateToken token="${token}"` } : {}),
    },
    body: JSON.stringify({ tag, payload }),
  });
}

Deno.test("e2e: signup, tokens, send spends one, inbox, out-of-tokens help", async () => {
  const node = await tokenNode();
  const dir = await Deno.makeTempDir({ prefix: "subspace-tokens-e2e-" });
  try {
    const alice = `${dir}/alice.json`;
    const bob = `${dir}/bob.json`;
    await ok(["keygen", "--wallet", alice, "--prefix-bits", "4"]);
    const bobAddress = (await ok(["keygen", "--wallet", bob, "--prefix-bits", "4"])).trim();

    // Signup: the captcha is saved as SVG and the answer read from stdin.
    const svg = `${dir}/captcha.svg`;
    const wrong = await cli([
      "signup",
      "--server",
      node.url,
      "--wallet",
      alice,
      "--captcha-file",
      svg,
    ], "wrong\n");
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Wrong answer/);
    const account = (await ok(
      ["signup", "--server", node.url, "--wallet", alice, "--captcha-file", svg],
      ANSWER + "\n",
    )).trim();
    assert.match(account, /^[0-9a-f]{32}$/);

    const fetched = JSON.parse(
      await ok(["tokens", "--server", node.url, "--wallet", alice, "--count", "3", "--json"]),
    );
    assert.deepEqual(fetched, { fetched: 3, stored: 3, free_remaining: 1, credit: 0 });
    const stored = (await readWalletTokens(alice))[new URL(node.url).origin]!;
    assert.equal(stored.account, account);
    assert.equal(stored.tokens.length, 3);
    assert.equal((await Deno.stat(alice)).mode! & 0o777, 0o600);

    for (const text of ["one", "two", "three"]) {
      await ok([
        "send",
        "--server",
        node.url,
        "--to",
        bobAddress,
        "--text",
        text,
        "--wallet",
        alice,
      ]);
    }
    assert.equal((await readWalletTokens(alice))[new URL(node.url).origin]!.tokens.length, 0);
    const inbox = (await ok(["inbox", "--server", node.url, "--wallet", bob, "--json"]))
      .trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      inbox.map((m) => new TextDecoder().decode(Uint8Array.fromBase64(m.body as string))).sort(),
      ["one", "three", "two"],
    );

    // Out of tokens: say so, show the pricing and how to get more.
    const out = await cli([
      "send",
      "--server",
      node.url,
      "--to",
      bobAddress,
      "--text",
      "four",
      "--wallet",
      alice,
    ]);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /No tokens left/);
    assert.match(out.stderr, /Free quota: 4 tokens every 1d; your account has 1 left/);
    assert.match(out.stderr, /subspace tokens --server .* --count 1\n/);
    assert.match(out.stderr, /does not sell tokens/);
  } finally {
    await node.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("e2e: spent, forged and foreign tokens refused; 100 concurrent redemptions, one wins", async () => {
  const [a, b] = await Promise.all([tokenNode(["--free-tokens", "10"]), tokenNode()]);
  try {
    const accountA = await adminAccount(a.url);
    const accountB = await adminAccount(b.url);
    const { tokens } = await fetchTokens({ server: a.url, account: accountA, count: 3 });
    const foreign = (await fetchTokens({ server: b.url, account: accountB, count: 1 })).tokens[0]!;

    const none = await post(a.url);
    assert.equal(none.status, 401);
    assert.match(
      none.headers.get("www-authenticate")!,
      /^PrivateToken challenge="[A-Za-z0-9_-]+=*", token-key="/,
    );
    await none.body?.cancel();

    const wrong = await post(a.url, foreign);
    assert.equal(wrong.status, 401);
    assert.match((await wrong.json()).detail, /not issued by this node/);

    const forgedBytes = Uint8Array.fromBase64(tokens[1]!, { alphabet: "base64url" });
    forgedBytes[forgedBytes.length - 3]! ^= 0x10;
    const forged = await post(a.url, forgedBytes.toBase64({ alphabet: "base64url" }));
    assert.equal(forged.status, 401);
    assert.match((await forged.json()).detail, /signature/);

    const results = await Promise.all(Array.from({ length: 100 }, () => post(a.url, tokens[0])));
    const statuses = await Promise.all(results.map(async (r) => {
      await r.body?.cancel();
      return r.status;
    }));
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 401).length, 99);

    const later = await post(a.url, tokens[0]);
    assert.equal(later.status, 401);
    assert.match((await later.json()).detail, /already spent/);
    // The foreign token still works where it was issued.
    const home = await post(b.url, foreign);
    assert.equal(home.status, 201);
    await home.body?.cancel();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all(
      [a, b].map((n) => Deno.remove(n.dataDir, { recursive: true }).catch(() => {})),
    );
  }
});
