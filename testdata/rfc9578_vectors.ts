/**
 * The RFC 9578 Appendix A.2 token type 0x0002 test vectors (`rfc9578_type2_vectors.json`),
 * typed, for the client's and the issuer's tests.
 *
 * @module
 */

/** One issuance of RFC 9578 A.2 (hex strings). */
export interface Rfc9578Vector {
  token_challenge: string;
  nonce: string;
  blind: string;
  salt: string;
  token_request: string;
  token_response: string;
  token: string;
}

/** The issuer key (`skS`, PEM as hex; `pkS`, the token key) and the vectors. */
export const RFC9578: { skS: string; pkS: string; vectors: Rfc9578Vector[] } = JSON.parse(
  await Deno.readTextFile(new URL("./rfc9578_type2_vectors.json", import.meta.url)),
);
