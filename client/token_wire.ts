/**
 * Privacy Pass wire formats: the TokenChallenge and Token of RFC 9577 §2, the TokenRequest
 * and TokenResponse of RFC 9578 §6 (token type 0x0002, Blind RSA 2048), the token key's
 * RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 §6.5), the issuer directory (RFC 9578 §4) and the
 * `PrivateToken` HTTP authentication headers (RFC 9577 §2.1, §2.2).
 *
 * Every parser reads untrusted bytes once and throws a `RangeError` naming the structure and
 * field at fault.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { type RsaPublicKey, rsaPublicKey } from "./blind_rsa.ts";
import { concat, equalBytes, fromBase64Url, fromHex, toBase64Url, toHex } from "./bytes.ts";

/** Token type of publicly verifiable Blind RSA (2048-bit) tokens (RFC 9578 §8.2.1). */
export const TOKEN_TYPE_BLIND_RSA = 0x0002;
/** Size of the authenticator and blinded message for type 0x0002, `Nk` (RFC 9578 §8.2.1). */
export const NK = 256;
/** Size of a token key id, `Nid` (RFC 9578 §8.2.1). */
export const NID = 32;
/** Size of the client nonce (RFC 9577 §2.2). */
export const NONCE_BYTES = 32;
/** Size of `token_type || nonce || challenge_digest || token_key_id` (RFC 9578 §6.1). */
export const TOKEN_INPUT_BYTES = 2 + NONCE_BYTES + 32 + NID;
/** Bytes of a serialized type 0x0002 token. */
export const TOKEN_BYTES = TOKEN_INPUT_BYTES + NK;
/** Bytes of a serialized type 0x0002 token request. */
export const TOKEN_REQUEST_BYTES = 2 + 1 + NK;
/** Media type of an issuance request (RFC 9578 §8.3). */
export const TOKEN_REQUEST_MEDIA_TYPE = "application/private-token-request";
/** Media type of an issuance response (RFC 9578 §8.3). */
export const TOKEN_RESPONSE_MEDIA_TYPE = "application/private-token-response";
/** Media type of the issuer directory (RFC 9578 §8.3). */
export const ISSUER_DIRECTORY_MEDIA_TYPE = "application/private-token-issuer-directory";
/** Well-known path of the issuer directory (RFC 9578 §4). */
export const ISSUER_DIRECTORY_PATH = "/.well-known/private-token-issuer-directory";
/** The HTTP authentication scheme name (RFC 9577 §2). */
export const AUTH_SCHEME = "PrivateToken";

/** The `challenge_digest` of a serialized TokenChallenge: its SHA-256 (RFC 9578 §6.1). */
export function challengeDigest(challenge: Uint8Array): Uint8Array {
  return sha256(challenge);
}

/** Big-endian unsigned 16-bit integer as two bytes. */
function u16(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

/**
 * A cursor over bytes that throws a `RangeError` naming the structure when input runs out,
 * so every parser reports truncation the same way.
 */
class Reader {
  #bytes: Uint8Array;
  #off = 0;
  #what: string;
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }
  /** Bytes not yet read. */
  get remaining(): number {
    return this.#bytes.length - this.#off;
  }
  /** Reads `n` bytes (a view, not a copy). */
  bytes(n: number, field: string): Uint8Array {
    if (this.remaining < n) {
      throw new RangeError(
        `Cannot parse ${this.#what}: ${field} needs ${n} bytes, ${this.remaining} left`,
      );
    }
    const out = this.#bytes.subarray(this.#off, this.#off + n);
    this.#off += n;
    return out;
  }
  /** Reads one byte. */
  u8(field: string): number {
    return this.bytes(1, field)[0]!;
  }
  /** Reads a big-endian 16-bit integer. */
  u16(field: string): number {
    const b = this.bytes(2, field);
    return (b[0]! << 8) | b[1]!;
  }
  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) {
      throw new RangeError(`Cannot parse ${this.#what}: ${this.remaining} trailing bytes`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// TokenChallenge (RFC 9577 §2.1)

/** A TokenChallenge (RFC 9577 §2.1). */
export interface TokenChallenge {
  tokenType: number;
  /** The issuer's name, a server name (`issuer.example`). */
  issuerName: string;
  /** Empty or exactly 32 bytes. */
  redemptionContext: Uint8Array;
  /** Origin names; empty when the token may be redeemed at any origin. */
  originInfo: string[];
}

const ascii = new TextEncoder();
const text = new TextDecoder("utf-8", { fatal: true });

/** Serializes a TokenChallenge. */
export function encodeTokenChallenge(c: TokenChallenge): Uint8Array {
  if (c.redemptionContext.length !== 0 && c.redemptionContext.length !== 32) {
    throw new RangeError("TokenChallenge redemption_context must be 0 or 32 bytes");
  }
  const issuer = ascii.encode(c.issuerName);
  const origins = ascii.encode(c.originInfo.join(","));
  if (issuer.length < 1 || issuer.length > 0xffff || origins.length > 0xffff) {
    throw new RangeError("TokenChallenge issuer_name or origin_info too long");
  }
  return concat(
    u16(c.tokenType),
    u16(issuer.length),
    issuer,
    new Uint8Array([c.redemptionContext.length]),
    c.redemptionContext,
    u16(origins.length),
    origins,
  );
}

/** Parses a TokenChallenge. */
export function decodeTokenChallenge(bytes: Uint8Array): TokenChallenge {
  const r = new Reader(bytes, "TokenChallenge");
  const tokenType = r.u16("token_type");
  const issuerLen = r.u16("issuer_name length");
  const issuerName = text.decode(r.bytes(issuerLen, "issuer_name"));
  const ctxLen = r.u8("redemption_context length");
  if (ctxLen !== 0 && ctxLen !== 32) {
    throw new RangeError(`Cannot parse TokenChallenge: redemption_context of ${ctxLen} bytes`);
  }
  const redemptionContext = r.bytes(ctxLen, "redemption_context").slice();
  const originLen = r.u16("origin_info length");
  const origins = text.decode(r.bytes(originLen, "origin_info"));
  r.end();
  return {
    tokenType,
    issuerName,
    redemptionContext,
    originInfo: origins === "" ? [] : origins.split(","),
  };
}

// ---------------------------------------------------------------------------------------------
// TokenRequest / TokenResponse (RFC 9578 §6.1, §6.2)

/** A type 0x0002 TokenRequest (RFC 9578 §6.1). */
export interface TokenRequest {
  tokenType: number;
  /** The least significant byte of the token key id. */
  truncatedTokenKeyId: number;
  /** `Nk` bytes. */
  blindedMsg: Uint8Array;
}

/** Serializes a TokenRequest. */
export function encodeTokenRequest(req: TokenRequest): Uint8Array {
  if (req.blindedMsg.length !== NK) throw new RangeError(`blinded_msg must be ${NK} bytes`);
  return concat(u16(req.tokenType), new Uint8Array([req.truncatedTokenKeyId]), req.blindedMsg);
}

/** Parses a type 0x0002 TokenRequest. */
export function decodeTokenRequest(bytes: Uint8Array): TokenRequest {
  const r = new Reader(bytes, "TokenRequest");
  const tokenType = r.u16("token_type");
  if (tokenType !== TOKEN_TYPE_BLIND_RSA) {
    throw new RangeError(`Cannot parse TokenRequest: unsupported token_type 0x${hex4(tokenType)}`);
  }
  const truncatedTokenKeyId = r.u8("truncated_token_key_id");
  const blindedMsg = r.bytes(NK, "blinded_msg").slice();
  r.end();
  return { tokenType, truncatedTokenKeyId, blindedMsg };
}

/** Parses a TokenResponse (`blind_sig[Nk]`, RFC 9578 §6.2). */
export function decodeTokenResponse(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== NK) {
    throw new RangeError(`Cannot parse TokenResponse: expected ${NK} bytes, got ${bytes.length}`);
  }
  return bytes.slice();
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}

// ---------------------------------------------------------------------------------------------
// Token (RFC 9577 §2.2, RFC 9578 §6.3)

/** A type 0x0002 Token. */
export interface Token {
  tokenType: number;
  nonce: Uint8Array;
  challengeDigest: Uint8Array;
  tokenKeyId: Uint8Array;
  authenticator: Uint8Array;
}

/** The signed part of a token: `token_type || nonce || challenge_digest || token_key_id`. */
export function tokenInput(t: Omit<Token, "authenticator">): Uint8Array {
  return concat(u16(t.tokenType), t.nonce, t.challengeDigest, t.tokenKeyId);
}

/** Serializes a Token. */
export function encodeToken(t: Token): Uint8Array {
  if (t.nonce.length !== NONCE_BYTES || t.challengeDigest.length !== 32) {
    throw new RangeError("Token nonce and challenge_digest must be 32 bytes");
  }
  if (t.tokenKeyId.length !== NID || t.authenticator.length !== NK) {
    throw new RangeError(`Token key id must be ${NID} bytes and authenticator ${NK} bytes`);
  }
  return concat(tokenInput(t), t.authenticator);
}

/** Parses a type 0x0002 Token. */
export function decodeToken(bytes: Uint8Array): Token {
  const r = new Reader(bytes, "Token");
  const tokenType = r.u16("token_type");
  if (tokenType !== TOKEN_TYPE_BLIND_RSA) {
    throw new RangeError(`Cannot parse Token: unsupported token_type 0x${hex4(tokenType)}`);
  }
  const token = {
    tokenType,
    nonce: r.bytes(NONCE_BYTES, "nonce"),
    challengeDigest: r.bytes(32, "challenge_digest"),
    tokenKeyId: r.bytes(NID, "token_key_id"),
    authenticator: r.bytes(NK, "authenticator"),
  };
  r.end();
  return token;
}

// ---------------------------------------------------------------------------------------------
// Token key encoding (RFC 9578 §6.5)

// DER of AlgorithmIdentifier { id-RSASSA-PSS, RSASSA-PSS-params { hashAlgorithm sha384,
// maskGenAlgorithm mgf1(sha384), saltLength 48 } } (RFC 4055), as RFC 9578 §6.5 requires.
const PSS_ALGORITHM_ID = fromHex(
  "303d06092a864886f70d01010a3030a00d300b0609608648016503040202" +
    "a11a301806092a864886f70d010108300b0609608648016503040202a203020130",
);
const OID_RSASSA_PSS = fromHex("2a864886f70d01010a");
const OID_RSA_ENCRYPTION = fromHex("2a864886f70d010101");

function derLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([tag]), derLength(body.length), body);
}

function derInteger(x: bigint): Uint8Array {
  let hex = x.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  let bytes: Uint8Array = fromHex(hex);
  if (bytes[0]! & 0x80) bytes = concat(new Uint8Array([0]), bytes);
  return der(0x02, bytes);
}

/**
 * The token key as published (RFC 9578 §6.5): a DER SubjectPublicKeyInfo whose algorithm is
 * id-RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt.
 */
export function encodeTokenKey(pk: RsaPublicKey): Uint8Array {
  const rsaPublicKeyDer = der(0x30, concat(derInteger(pk.n), derInteger(pk.e)));
  const bitString = der(0x03, concat(new Uint8Array([0]), rsaPublicKeyDer));
  return der(0x30, concat(PSS_ALGORITHM_ID, bitString));
}

class DerReader {
  #r: Reader;
  constructor(bytes: Uint8Array) {
    this.#r = new Reader(bytes, "token key");
  }
  get remaining(): number {
    return this.#r.remaining;
  }
  /** Reads one TLV with the expected tag and returns its body. */
  read(tag: number, field: string): Uint8Array {
    const t = this.#r.u8(field);
    if (t !== tag) {
      throw new RangeError(`Cannot parse token key: ${field} has DER tag 0x${t.toString(16)}`);
    }
    let len = this.#r.u8(field);
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3) throw new RangeError(`Cannot parse token key: ${field} length`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + this.#r.u8(field);
    }
    return this.#r.bytes(len, field);
  }
  end(): void {
    this.#r.end();
  }
}

/**
 * Parses a token key: an RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 §6.5) or, leniently, an
 * rsaEncryption one.
 */
export function decodeTokenKey(spki: Uint8Array): RsaPublicKey {
  const outer = new DerReader(spki);
  const seq = new DerReader(outer.read(0x30, "SubjectPublicKeyInfo"));
  outer.end();
  const alg = new DerReader(seq.read(0x30, "algorithm"));
  const oid = alg.read(0x06, "algorithm OID");
  const isPss = equalBytes(oid, OID_RSASSA_PSS);
  const isRsa = equalBytes(oid, OID_RSA_ENCRYPTION);
  if (!isPss && !isRsa) throw new RangeError("Cannot parse token key: not an RSA key");
  const bits = seq.read(0x03, "subjectPublicKey");
  seq.end();
  if (bits[0] !== 0) throw new RangeError("Cannot parse token key: unused bits in BIT STRING");
  const rsa = new DerReader(bits.subarray(1));
  const inner = new DerReader(rsa.read(0x30, "RSAPublicKey"));
  rsa.end();
  const n = BigInt("0x" + toHex(inner.read(0x02, "modulus")));
  const e = BigInt("0x" + toHex(inner.read(0x02, "publicExponent")));
  inner.end();
  return rsaPublicKey(n, e);
}

/** The token key id: SHA-256 of the encoded token key (RFC 9578 §6.5). */
export function tokenKeyId(tokenKey: Uint8Array): Uint8Array {
  return sha256(tokenKey);
}

// ---------------------------------------------------------------------------------------------
// Issuer directory (RFC 9578 §4)

/** One key of the issuer directory. */
export interface DirectoryKey {
  /** Token type (2). */
  "token-type": number;
  /** base64url of the encoded token key. */
  "token-key": string;
  /** Unix seconds from which the key may be used (optional). */
  "not-before"?: number;
}

/** The issuer directory (RFC 9578 §4). */
export interface IssuerDirectory {
  /** Issuance URI (absolute URL or path on the issuer). */
  "issuer-request-uri": string;
  /** Current keys, newest last. */
  "token-keys": DirectoryKey[];
}

/**
 * Parses an issuer directory JSON value; unknown members are ignored as the RFC asks.
 * @throws {RangeError} when required members are missing or mistyped.
 */
export function parseIssuerDirectory(value: unknown): IssuerDirectory {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null) {
    throw new RangeError("Cannot parse issuer directory: expected a JSON object");
  }
  const uri = v["issuer-request-uri"];
  const keys = v["token-keys"];
  if (typeof uri !== "string") {
    throw new RangeError("Cannot parse issuer directory: issuer-request-uri is not a string");
  }
  if (!Array.isArray(keys)) {
    throw new RangeError("Cannot parse issuer directory: token-keys is not an array");
  }
  const out: DirectoryKey[] = [];
  for (const k of keys) {
    if (typeof k !== "object" || k === null) continue;
    const type = (k as Record<string, unknown>)["token-type"];
    const key = (k as Record<string, unknown>)["token-key"];
    const nb = (k as Record<string, unknown>)["not-before"];
    if (typeof type !== "number" || typeof key !== "string") {
      throw new RangeError("Cannot parse issuer directory: token-keys entry without type/key");
    }
    const entry: DirectoryKey = { "token-type": type, "token-key": key };
    if (typeof nb === "number") entry["not-before"] = nb;
    out.push(entry);
  }
  return { "issuer-request-uri": uri, "token-keys": out };
}

// ---------------------------------------------------------------------------------------------
// HTTP authentication headers (RFC 9577 §2.1, §2.2; auth-param syntax of RFC 9110 §11)

/** One parsed authentication challenge or credential: scheme and lower-cased parameters. */
export interface AuthItem {
  scheme: string;
  params: Map<string, string>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a `WWW-Authenticate` or `Authorization` value into its challenges (RFC 9110 §11.2:
 * `scheme param=value, param="quoted", Scheme2 ...`). Values may be tokens or quoted strings;
 * base64url values with `=` padding are accepted unquoted too.
 * @throws {RangeError} on malformed syntax.
 */
export function parseAuthHeader(header: string): AuthItem[] {
  const items: AuthItem[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && TCHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: AuthItem | undefined;
  while (i < n) {
    skipWs();
    if (header[i] === ",") {
      i++;
      continue;
    }
    if (i >= n) break;
    const word = readToken();
    if (word === "") throw new RangeError(`Cannot parse auth header: unexpected '${header[i]}'`);
    skipWs();
    if (header[i] === "=") {
      // A parameter of the current item.
      i++;
      skipWs();
      let value: string;
      if (header[i] === '"') {
        i++;
        value = "";
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        if (i >= n) throw new RangeError("Cannot parse auth header: unterminated quoted string");
        i++;
      } else {
        const start = i;
        while (i < n && header[i] !== "," && header[i] !== " " && header[i] !== "\t") i++;
        value = header.slice(start, i);
      }
      if (current === undefined) {
        throw new RangeError("Cannot parse auth header: parameter before any scheme");
      }
      current.params.set(word.toLowerCase(), value);
    } else {
      current = { scheme: word, params: new Map() };
      items.push(current);
      // A token68 credential (`Bearer abc==`): token68 characters, optional `=` padding, then
      // the end or a comma. Kept under the empty parameter name.
      const m = /^[A-Za-z0-9\-._~+/]+=*[ \t]*(?:,|$)/.exec(header.slice(i));
      if (m) {
        current.params.set("", m[0].replace(/[ \t,]+$/, ""));
        i += m[0].length;
      }
    }
  }
  return items;
}

/** A PrivateToken challenge as carried in `WWW-Authenticate` (RFC 9577 §2.1). */
export interface PrivateTokenChallenge {
  /** The serialized TokenChallenge. */
  challenge: Uint8Array;
  /** The issuer's encoded token key. */
  tokenKey: Uint8Array;
  /** Seconds the challenge may be cached, when given. */
  maxAge?: number;
}

/** Formats one PrivateToken challenge for `WWW-Authenticate` (base64url with padding). */
export function formatWwwAuthenticate(c: PrivateTokenChallenge): string {
  let s = `${AUTH_SCHEME} challenge="${toBase64Url(c.challenge)}", token-key="${
    toBase64Url(c.tokenKey)
  }"`;
  if (c.maxAge !== undefined) s += `, max-age="${c.maxAge}"`;
  return s;
}

/** Parses every PrivateToken challenge in a `WWW-Authenticate` value; other schemes are skipped. */
export function parseWwwAuthenticate(header: string): PrivateTokenChallenge[] {
  const out: PrivateTokenChallenge[] = [];
  for (const item of parseAuthHeader(header)) {
    if (item.scheme.toLowerCase() !== AUTH_SCHEME.toLowerCase()) continue;
    const challenge = item.params.get("challenge");
    const tokenKey = item.params.get("token-key");
    if (challenge === undefined || tokenKey === undefined) {
      throw new RangeError("Cannot parse PrivateToken challenge: challenge and token-key required");
    }
    const c: PrivateTokenChallenge = {
      challenge: fromBase64Url(challenge, "challenge"),
      tokenKey: fromBase64Url(tokenKey, "token-key"),
    };
    const maxAge = item.params.get("max-age");
    if (maxAge !== undefined && /^\d{1,10}$/.test(maxAge)) c.maxAge = Number(maxAge);
    out.push(c);
  }
  return out;
}

/** Formats `Authorization: PrivateToken token="..."` (RFC 9577 §2.2). */
export function formatAuthorization(token: Uint8Array): string {
  return `${AUTH_SCHEME} token="${toBase64Url(token)}"`;
}

/**
 * Extracts the token bytes from an `Authorization` value, or `undefined` when it carries no
 * PrivateToken credential.
 * @throws {RangeError} when a PrivateToken credential is malformed.
 */
export function parseAuthorization(header: string): Uint8Array | undefined {
  for (const item of parseAuthHeader(header)) {
    if (item.scheme.toLowerCase() !== AUTH_SCHEME.toLowerCase()) continue;
    const token = item.params.get("token");
    if (token === undefined) throw new RangeError("Cannot parse PrivateToken: token= missing");
    return fromBase64Url(token, "token");
  }
  return undefined;
}
