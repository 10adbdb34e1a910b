/**
 * The Privacy Pass wire formats for the issuer and the redemption check: the wallet library's
 * `client/token_wire.ts` (RFC 9577 TokenChallenge, Token and `PrivateToken` headers; RFC 9578
 * TokenRequest, TokenResponse, token key and issuer directory), re-exported under the names the
 * quota code uses. Client and server parse and build these bytes with the same code.
 *
 * @module
 */
export {
  AUTH_SCHEME,
  type AuthItem,
  challengeDigest,
  decodeToken,
  decodeTokenChallenge,
  decodeTokenKey,
  decodeTokenRequest,
  decodeTokenResponse,
  type DirectoryKey,
  encodeToken,
  encodeTokenChallenge,
  encodeTokenKey,
  encodeTokenRequest,
  formatAuthorization,
  formatWwwAuthenticate,
  ISSUER_DIRECTORY_MEDIA_TYPE,
  ISSUER_DIRECTORY_PATH,
  type IssuerDirectory,
  NID,
  NK,
  NONCE_BYTES,
  parseAuthHeader,
  parseAuthorization,
  parseIssuerDirectory,
  parseWwwAuthenticate,
  type PrivateTokenChallenge,
  type Token,
  TOKEN_BYTES,
  TOKEN_INPUT_BYTES,
  TOKEN_REQUEST_BYTES,
  TOKEN_REQUEST_MEDIA_TYPE,
  TOKEN_RESPONSE_MEDIA_TYPE,
  TOKEN_TYPE_BLIND_RSA,
  type TokenChallenge,
  tokenInput,
  tokenKeyId,
  type TokenRequest,
} from "../../client/mod.ts";
export { sha256 } from "@noble/hashes/sha2.js";
