import assert from "node:assert/strict";
import { NODE_DENO_FLAGS, startNode } from "./_node.ts";

const post = (url: string, body: unknown) =>
  fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const tag = () => crypto.getRandomValues(new Uint8Array(20)).toHex();

Deno.test("invalid configuration: refuses to start and lists every error", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...NODE_DENO_FLAGS,
      new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--port",
      "-1",
      "--quota",
      "free",
      "--max-ttl",
      "x",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr);
  assert.match(err, /refusing to start/);
  assert.match(err, /--port: must be at least 0/);
  assert.match(err, /--quota: expected one of open, tokens/);
  assert.match(err, /--max-ttl: expected a duration/);
});

Deno.test("HTTPS: serves TLS directly with --tls-cert/--tls-key", async () => {
  const dir = await Deno.makeTempDir();
  // A throwaway CA and a leaf certificate for 127.0.0.1 signed by it.
  const script = `set -e; cd ${dir}
    C="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    openssl req -x509 $C -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem
    openssl req $C -subj /CN=localhost -keyout key.pem -out leaf.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out cert.pem`;
  const gen = await new Deno.Command("bash", {
    args: ["-c", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(gen.code, 0, "openssl failed");
  const node = await startNode({
    args: ["--tls-cert", `${dir}/cert.pem`, "--tls-key", `${dir}/key.pem`],
  });
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${dir}/ca.pem`)] });
  try {
    assert.match(node.url, /^https:\/\//);
    const res = await fetch(`${node.url}/v1/info`, { client } as RequestInit);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).software, "subspace");
    // Plain HTTP to the TLS port gets no answer an observer could read.
    await assert.rejects(fetch(node.url.replace("https:", "http:") + "/v1/info"));
  } finally {
    client.close();
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("per-client rate limit answers 429 with Retry-After; others are unaffected", async () => {
  const node = await startNode({ args: ["--rate-limit", "5", "--rate-burst", "10"] });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${node.url}/healthz`);
      statuses.push(res.status);
      if (res.status === 429) {
        assert.ok(Number(res.headers.get("retry-after")) >= 1);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
      }
      await res.body?.cancel();
    }
    assert.equal(statuses.filter((s) => s === 200).length, 10);
    assert.equal(statuses.filter((s) => s === 429).length, 10);
  } finally {
    await node.stop();
  }
});

Deno.test("graceful shutdown finishes acknowledged writes and exits cleanly", async () => {
  const args = ["--rate-limit", "100000", "--rate-burst", "100000"];
  const node = await startNode({ args });
  const sent = Array.from({ length: 200 }, () => ({ tag: tag(), payload: "AAECAw==" }));
  const results = sent.map((m) =>
    post(node.url, m).then(async (r) =>
      r.status === 201 ? (await r.json()).id : (await r.body?.cancel(), null)
    ).catch(() => null)
  );
  await new Promise((r) => setTimeout(r, 20));
  await node.stop();
  const status = await node.process.status;
  assert.equal(status.code, 0);
  assert.ok(node.logs.some((l) => l.includes('"msg":"stopped"')));
  const acked = (await Promise.all(results)).filter((id): id is string => id !== null);
  const again = await startNode({ dataDir: node.dataDir, args });
  try {
    for (const id of acked) {
      const res = await fetch(`${again.url}/v1/messages/${id}`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
  } finally {
    await again.stop();
  }
});

Deno.test("long poll over a real socket wakes on a POST from another client", async () => {
  const node = await startNode();
  try {
    const t = "beef" + tag().slice(4);
    const poll = fetch(`${node.url}/v1/messages?prefix=beef&bits=16&wait=20`).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await post(node.url, { tag: t, payload: "aGk=" })).status, 201);
    const got = await poll;
    assert.equal(got.messages[0].tag, t);
  } finally {
    await node.stop();
  }
});
