import assert from "node:assert/strict";
import { HDKey } from "@scure/bip32";
import { parseXpub } from "./xpub.ts";

// BIP32 test vector 2 (public derivation of non-hardened children).
const V2_M =
  "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB";
const V2_M_0 =
  "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH";
const V2_M_0_H =
  "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a";
const V2_M_0_H_1 =
  "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon";

// BIP84 test vector ("abandon ... about", m/84'/0'/0') and SLIP-132's keys of the same seed.
const BIP84_ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const SLIP132_XPUB =
  "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";
const SLIP132_YPUB =
  "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP";
const SLIP132_VPUB =
  "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";

Deno.test("BIP32 vector 2: public child derivation matches the published xpubs", () => {
  assert.equal(HDKey.fromExtendedKey(V2_M).deriveChild(0).publicExtendedKey, V2_M_0);
  assert.equal(HDKey.fromExtendedKey(V2_M_0_H).deriveChild(1).publicExtendedKey, V2_M_0_H_1);
});

Deno.test("BIP84 vector: zpub receive addresses 0 and 1", () => {
  const d = parseXpub(BIP84_ZPUB);
  assert.equal(d.type, "p2wpkh");
  assert.equal(d.network, "mainnet");
  assert.equal(d.address(0), "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
  assert.equal(d.address(1), "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g");
});

Deno.test("SLIP-132 xpub (BIP44) and ypub (BIP49) first receive addresses", () => {
  assert.equal(parseXpub(SLIP132_XPUB).address(0), "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA");
  assert.equal(parseXpub(SLIP132_YPUB).address(0), "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf");
});

Deno.test("testnet and regtest keys, type overrides and bad input", () => {
  const t = parseXpub(SLIP132_VPUB);
  assert.equal(t.network, "testnet");
  assert.match(t.address(0), /^tb1q/);
  const r = parseXpub(SLIP132_VPUB, { network: "regtest" });
  assert.match(r.address(0), /^bcrt1q/);
  assert.match(parseXpub(BIP84_ZPUB, { type: "p2pkh" }).address(0), /^1/);
  assert.throws(() => parseXpub(BIP84_ZPUB, { network: "testnet" }), /mainnet/);
  assert.throws(() => parseXpub("xprv9s21ZrQH143K3QTDL4LXw2F7HEK3"), /is a private key/);
  assert.throws(() => parseXpub("Qpub6rFR7y4Q2Aij"), /expected a key starting xpub/);
  assert.throws(() => parseXpub(BIP84_ZPUB.slice(0, -1) + "x"), RangeError);
  assert.throws(() => parseXpub(BIP84_ZPUB).address(-1), RangeError);
  assert.throws(() => parseXpub(BIP84_ZPUB).address(2 ** 31), RangeError);
});
