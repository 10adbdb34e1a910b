/**
 * Test helpers for the wallet library: an in-memory double of the wallet HTTP API
 * (`POST /v1/messages`, `GET /v1/messages`) for unit tests of the client and its transports,
 * optionally with a Privacy Pass issuer whose signing is done by the reference library
 * `@cloudflare/blindrsa-ts` (an implementation independent of ours). Used only by tests;
 * integration tests use real nodes.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { RSABSSA } from "@cloudflare/blindrsa-ts";
import { os2ip, rsaPublicKey } from "./blind_rsa.ts";
import {
  concat,
  equalBytes,
  fromBase64,
  fromBase64Url,
  fromHex,
  toBase64Url,
  toHex,
} from "./bytes.ts";
import { matchesPrefix } from "./stealth_address.ts";
import {
  challengeDigest,
  decodeToken,
  decodeTokenRequest,
  encodeTokenChallenge,
  encodeTokenKey,
  formatWwwAuthenticate,
  ISSUER_DIRECTORY_PATH,
  parseAuthorization,
  TOKEN_TYPE_BLIND_RSA,
  tokenInput,
  tokenKeyId,
} from "./token_wire.ts";

/** The issuer half of {@linkcode FakeServer}: one key, one challenge, one captcha answer. */
export interface FakeIssuer {
  /** The serialized TokenChallenge the server asks tokens for. */
  challenge: Uint8Array;
  /** The published token key (RFC 9578 §6.5). */
  tokenKey: Uint8Array;
  /** The account the captcha hands out. */
  account: string;
  /** The captcha's answer. */
  answer: string;
  /** Free tokens left for {@linkcode account}. */
  freeRemaining: number;
  /** Nonces of redeemed tokens (hex). */
  spent: Set<string>;
  /** Tokens redeemed. */
  redeemed: number;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

const SUITE = RSABSSA.SHA384.PSS.Deterministic();

/** Makes an issuer for {@linkcode FakeServer} with a fresh 2048-bit key. */
export async function fakeIssuer(freeTokens = 10): Promise<FakeIssuer> {
  const { privateKey, publicKey } = await SUITE.generateKey({
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  });
  const jwk = await crypto.subtle.exportKey("jwk", publicKey);
  const pk = rsaPublicKey(os2ip(fromBase64Url(jwk.n!)), os2ip(fromBase64Url(jwk.e!)));
  return {
    challenge: encodeTokenChallenge({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      issuerName: "issuer.test",
      redemptionContext: new Uint8Array(0),
      originInfo: [],
    }),
    tokenKey: encodeTokenKey(pk),
    account: "0123456789abcdef0123456789abcdef",
    answer: "right",
    freeRemaining: freeTokens,
    spent: new Set(),
    redeemed: 0,
    privateKey,
    publicKey,
  };
}

function problem(status: number, detail: string, headers: Record<string, string> = {}): Response {
  return Response.json({ status, detail }, {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** A stored message. */
interface Stored {
  id: string;
  tag: string;
  payload: string;
  received_at: number;
  expires_at: number;
}

/** An in-memory server answering the wallet API through a fetch-compatible function. */
export class FakeServer {
  readonly messages: Stored[] = [];
  /** Requests seen (method, path and query, authorization header). */
  readonly requests: { method: string; url: string; authorization: string | null }[] = [];
  /** Status codes to answer with before handling normally (one per request). */
  failures: number[] = [];
  /** When set, the server issues tokens and posting costs one. */
  issuer: FakeIssuer | undefined;
  #waiters: (() => void)[] = [];

  constructor(issuer?: FakeIssuer) {
    this.issuer = issuer;
  }

  /** Answers the signup and token routes, or returns `undefined` for other requests. */
  async #tokens(req: Request, url: URL): Promise<Response | undefined> {
    const iss = this.issuer;
    if (iss === undefined) return undefined;
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /v1/info") {
      return Response.json({
        quota: "tokens",
        limits: { max_payload_bytes: 65536, default_ttl_seconds: 604800, max_ttl_seconds: 2419200 },
        tokens: { challenge: toBase64Url(iss.challenge), issuer_directory: ISSUER_DIRECTORY_PATH },
      });
    }
    if (route === `GET ${ISSUER_DIRECTORY_PATH}`) {
      return Response.json({
        "issuer-request-uri": "/v1/tokens",
        "token-keys": [{ "token-type": 2, "token-key": toBase64Url(iss.tokenKey) }],
      });
    }
    if (route === "GET /v1/pricing") {
      return Response.json({ free_tokens: 10, quota_period_seconds: 86400, fees_enabled: false });
    }
    if (route === "GET /v1/captcha") {
      return Response.json({ id: "captcha-1", svg: "<svg/>", expires_at: 2_000_000_000 });
    }
    if (route === "POST /v1/accounts") {
      const body = await req.json();
      if (body.captcha_id !== "captcha-1" || body.answer !== iss.answer) {
        return problem(400, "Wrong answer; get a new captcha and try again");
      }
      return Response.json(
        { account: iss.account, free_tokens: 10, quota_period_seconds: 86400 },
        { status: 201 },
      );
    }
    if (route === "POST /v1/tokens") {
      if (req.headers.get("authorization") !== `Bearer ${iss.account}`) {
        return problem(401, "unknown account");
      }
      const body = await req.json() as { token_requests: string[] };
      if (body.token_requests.length > iss.freeRemaining) return problem(429, "quota used");
      const responses: string[] = [];
      for (const r of body.token_requests) {
        const request = decodeTokenRequest(fromBase64Url(r));
        responses.push(toBase64Url(await SUITE.blindSign(iss.privateKey, request.blindedMsg)));
      }
      iss.freeRemaining -= responses.length;
      return Response.json({
        token_responses: responses,
        free_remaining: iss.freeRemaining,
        credit: 0,
      });
    }
    if (route === "POST /v1/messages") {
      const challenge = {
        "www-authenticate": formatWwwAuthenticate({
          challenge: iss.challenge,
          tokenKey: iss.tokenKey,
        }),
      };
      const header = req.headers.get("authorization");
      const bytes = header === null ? undefined : parseAuthorization(header);
      if (bytes === undefined) return problem(401, "Posting costs one token", challenge);
      const t = decodeToken(bytes);
      const nonce = toHex(t.nonce);
      const ok = equalBytes(t.challengeDigest, challengeDigest(iss.challenge)) &&
        equalBytes(t.tokenKeyId, tokenKeyId(iss.tokenKey)) && !iss.spent.has(nonce) &&
        await SUITE.verify(iss.publicKey, t.authenticator, tokenInput(t));
      if (!ok) return problem(401, "Token refused", challenge);
      iss.spent.add(nonce);
      iss.redeemed++;
    }
    return undefined;
  }

  /** Adds a message directly. */
  insert(tagHex: string, payloadB64: string): string {
    const id = toHex(sha256(concat(fromHex(tagHex), fromBase64(payloadB64))));
    if (!this.messages.some((m) => m.id === id)) {
      this.messages.push({ id, tag: tagHex, payload: payloadB64, received_at: 1, expires_at: 2 });
      for (const w of this.#waiters.splice(0)) w();
    }
    return id;
  }

  /** The fetch function to hand to the client. */
  fetch = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    this.requests.push({
      method: req.method,
      url: url.pathname + url.search,
      authorization: req.headers.get("authorization"),
    });
    const fail = this.failures.shift();
    if (fail !== undefined) {
      return Response.json({ title: "injected failure", status: fail }, {
        status: fail,
        headers: { "content-type": "application/problem+json", "retry-after": "0" },
      });
    }
    const tokenAnswer = await this.#tokens(req, url);
    if (tokenAnswer !== undefined) return tokenAnswer;
    if (req.method === "GET" && url.pathname === "/v1/info") {
      return Response.json({
        quota: "open",
        limits: { max_payload_bytes: 65536, default_ttl_seconds: 604800, max_ttl_seconds: 2419200 },
      });
    }
    if (req.method === "POST" && url.pathname === "/v1/messages") {
      const body = await req.json();
      const id = this.insert(body.tag, body.payload);
      return Response.json({ id, expires_at: 2 }, { status: 201 });
    }
    if (req.method === "GET" && url.pathname === "/v1/messages") {
      const bits = Number(url.searchParams.get("bits") ?? "0");
      const prefix = fromHex(url.searchParams.get("prefix") ?? "");
      const after = Number(url.searchParams.get("after") ?? "0");
      const limit = Number(url.searchParams.get("limit") ?? "100");
      const wait = Number(url.searchParams.get("wait") ?? "0");
      const select = () =>
        this.messages
          .map((m, i) => ({ m, seq: i + 1 }))
          .filter(({ m, seq }) => seq > after && matchesPrefix(fromHex(m.tag), prefix, bits))
          .slice(0, limit);
      let found = select();
      if (found.length === 0 && wait > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait * 1000);
          this.#waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
          req.signal.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          });
        });
        found = select();
      }
      const cursor = found.length > 0 ? found[found.length - 1]!.seq : Math.max(after, 0);
      return Response.json({ messages: found.map((f) => f.m), cursor: String(cursor) });
    }
    const one = /^\/v1\/messages\/([0-9a-f]{64})$/.exec(url.pathname);
    const found = one === null ? undefined : this.messages.find((m) => m.id === one[1]);
    if (req.method === "GET" && found !== undefined) return Response.json(found);
    return Response.json({ title: "not found" }, { status: 404 });
  };
}
