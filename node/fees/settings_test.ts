import assert from "node:assert/strict";
import { HDKey } from "@scure/bip32";
import {
  checkEsploraUrl,
  paymentRuntime,
  PaymentSettingsError,
  paymentSettingsToJson,
  updatePaymentSettings,
} from "./settings.ts";

const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const VPUB =
  "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";
const BASE = { xpub: "", esploraUrl: "", confirmations: 1 };

function refuses(json: Record<string, unknown>, field: string, message: RegExp, network?: string) {
  assert.throws(
    () =>
      updatePaymentSettings(
        BASE,
        json,
        network === undefined ? {} : { network: network as "mainnet" },
      ),
    (err: unknown) =>
      err instanceof PaymentSettingsError && err.field === field && message.test(err.message),
    JSON.stringify(json),
  );
}

Deno.test("payment settings: partial updates, trimming and the JSON form", () => {
  const s = updatePaymentSettings(BASE, {
    xpub: ` ${ZPUB} `,
    esplora_url: "https://esplora.example/api//",
  });
  assert.deepEqual(s, {
    xpub: ZPUB,
    esploraUrl: "https://esplora.example/api",
    confirmations: 1,
  });
  assert.deepEqual(updatePaymentSettings(s, { confirmations: 0 }).confirmations, 0);
  assert.deepEqual(paymentSettingsToJson(s), {
    xpub: ZPUB,
    esplora_url: "https://esplora.example/api",
    confirmations: 1,
    address_type: "auto",
  });
  assert.deepEqual(updatePaymentSettings(s, { xpub: "", esplora_url: "" }), BASE);
  assert.equal(checkEsploraUrl("http://127.0.0.1:3002"), "http://127.0.0.1:3002");
  const rt = paymentRuntime(s);
  assert.equal(rt.deriver?.address(0), "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
  assert.equal(rt.esplora?.baseUrl, "https://esplora.example/api");
  assert.equal(paymentRuntime(BASE).deriver, undefined);
  assert.equal(paymentRuntime(BASE).esplora, undefined);
});

Deno.test("payment settings: every refusal names its field", () => {
  refuses({ xpub: "nonsense" }, "xpub", /Cannot parse xpub/);
  refuses({ xpub: ZPUB.slice(0, -1) + "x" }, "xpub", /Cannot parse xpub/);
  refuses({ xpub: "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3" }, "xpub", /private key/);
  refuses({ xpub: VPUB }, "xpub", /testnet key \(vpub\) on mainnet/, "mainnet");
  refuses({ xpub: ZPUB }, "xpub", /mainnet key \(zpub\) on testnet/, "testnet");
  refuses({ xpub: 5 }, "xpub", /must be a string/);
  refuses({ esplora_url: "ftp://x/api" }, "esplora_url", /http:\/\/ or https:\/\//);
  refuses({ esplora_url: "javascript:alert(1)" }, "esplora_url", /http:\/\/ or https:\/\//);
  refuses({ esplora_url: "/api" }, "esplora_url", /Cannot parse Esplora URL/);
  refuses({ esplora_url: "https://x/api?key=1" }, "esplora_url", /without a query/);
  refuses({ esplora_url: "https://x/" + "a".repeat(3000) }, "esplora_url", /too long/);
  refuses({ confirmations: -1 }, "confirmations", /between 0 and 100/);
  refuses({ confirmations: 1.5 }, "confirmations", /between 0 and 100/);
  refuses({ confirmations: "2" }, "confirmations", /between 0 and 100/);
  // A regtest node takes testnet keys.
  assert.equal(
    updatePaymentSettings(BASE, { xpub: VPUB }, { network: "regtest" }).xpub,
    VPUB,
  );
});

Deno.test("address type: an xpub exported for a native segwit account, chosen by hand", () => {
  // The BIP84 vector's account key with the plain xpub prefix, as Ledger and Trezor export it.
  const k = HDKey.fromExtendedKey(ZPUB, { public: 0x04b24746, private: 0 });
  const xpub = new HDKey({
    versions: { public: 0x0488b21e, private: 0x0488ade4 },
    depth: k.depth,
    index: k.index,
    parentFingerprint: k.parentFingerprint,
    chainCode: k.chainCode!,
    publicKey: k.publicKey!,
  }).publicExtendedKey;
  assert.ok(xpub.startsWith("xpub"));
  const legacy = paymentRuntime(updatePaymentSettings(BASE, { xpub }));
  assert.match(legacy.deriver!.address(0), /^1/, "auto reads an xpub as legacy");
  const chosen = updatePaymentSettings(BASE, { xpub, address_type: "p2wpkh" });
  assert.equal(
    paymentRuntime(chosen).deriver!.address(0),
    "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
    "the wallet's first receive address",
  );
  assert.equal(paymentSettingsToJson(chosen).address_type, "p2wpkh");
  refuses({ address_type: "taproot" }, "address_type", /must be one of auto, p2pkh/);
});
