/**
 * The OpenAPI 3.1 description of the public HTTP API. Features add their paths to
 * {@linkcode EXTRA_PATHS} so one document describes everything.
 *
 * @module
 */
import { VERSION } from "../version.ts";

const problem = {
  description: "Problem (RFC 9457)",
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
};
const json = (schema: unknown, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});

/** Paths added by features (tokens, fees, federation); keyed by path. */
export const EXTRA_PATHS: Record<string, unknown> = {};

/** Builds the document. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Subspace",
      version: VERSION,
      description:
        "Store-and-forward messages for Bitcoin wallets: opaque encrypted payloads under 160-bit tags, queried by tag prefix.",
    },
    paths: {
      "/v1/messages": {
        post: {
          summary: "Store a message",
          description:
            "The id is sha256(tag || payload); repeating a POST is idempotent. With quota=tokens, send `Authorization: PrivateToken token=...`.",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/NewMessage" } },
            },
          },
          responses: {
            "201": json({
              type: "object",
              required: ["id", "expires_at"],
              properties: {
                id: { $ref: "#/components/schemas/Id" },
                expires_at: { type: "integer", description: "Unix seconds" },
              },
            }, "Stored durably"),
            "400": problem,
            "401": problem,
            "413": problem,
            "415": problem,
            "429": problem,
            "503": problem,
            "507": problem,
          },
        },
        get: {
          summary: "Messages whose tag starts with a prefix",
          parameters: [
            {
              name: "prefix",
              in: "query",
              schema: { type: "string", pattern: "^[0-9a-fA-F]{0,8}$" },
              description: "Hex; at least `bits` bits, at most ceil(bits/8) bytes.",
            },
            {
              name: "bits",
              in: "query",
              schema: { type: "integer", minimum: 0, maximum: 32, default: 0 },
            },
            {
              name: "after",
              in: "query",
              schema: { type: "string" },
              description: "Opaque cursor from a previous response (per server).",
            },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            },
            {
              name: "wait",
              in: "query",
              schema: { type: "integer", minimum: 0, maximum: 60, default: 0 },
              description: "Long-poll up to this many seconds when nothing matches yet.",
            },
          ],
          responses: {
            "200": json({
              type: "object",
              required: ["messages", "cursor"],
              properties: {
                messages: { type: "array", items: { $ref: "#/components/schemas/Message" } },
                cursor: { type: "string" },
              },
            }),
            "400": problem,
            "429": problem,
            "503": problem,
          },
        },
      },
      "/v1/messages/{id}": {
        get: {
          summary: "One message by id",
          parameters: [{
            name: "id",
            in: "path",
            required: true,
            schema: { $ref: "#/components/schemas/Id" },
          }],
          responses: {
            "200": json({ $ref: "#/components/schemas/Message" }),
            "400": problem,
            "404": problem,
          },
        },
      },
      "/v1/info": {
        get: {
          summary: "Node id, version, limits and pricing",
          responses: { "200": json({ type: "object" }) },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness",
          responses: { "200": json({ type: "object" }), "503": problem },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { "200": json({ type: "object" }) } },
      },
      "/v1/captcha": {
        get: {
          summary: "A single-use captcha (SVG) for signup",
          responses: {
            "200": json({
              type: "object",
              properties: {
                id: { type: "string" },
                svg: { type: "string" },
                expires_at: { type: "integer" },
              },
            }),
          },
        },
      },
      "/v1/accounts": {
        post: {
          summary: "Sign up: a captcha answer for a random 128-bit account number",
          requestBody: {
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["captcha_id", "answer"],
                  properties: { captcha_id: { type: "string" }, answer: { type: "string" } },
                },
              },
            },
          },
          responses: {
            "201": json({
              type: "object",
              properties: {
                account: { type: "string" },
                free_tokens: { type: "integer" },
                quota_period_seconds: { type: "integer" },
              },
            }, "Account created"),
            "400": problem,
            "429": problem,
          },
        },
      },
      "/v1/account": {
        get: {
          summary: "Free quota and credit left (Authorization: Bearer <account>)",
          responses: { "200": json({ type: "object" }), "401": problem },
        },
      },
      "/v1/tokens": {
        post: {
          summary: "Blind-signed Privacy Pass tokens (RFC 9578, type 0x0002)",
          description:
            "Authorization: Bearer <account>. Body: one `application/private-token-request`, or JSON `{token_requests: [base64url, ...]}` for a batch.",
          responses: {
            "200": {
              description:
                "`application/private-token-response`, or JSON `{token_responses, free_remaining, credit}`",
            },
            "400": problem,
            "401": problem,
            "402": problem,
            "415": problem,
          },
        },
      },
      "/.well-known/private-token-issuer-directory": {
        get: {
          summary: "RFC 9578 issuer directory (issuance URI and token keys)",
          responses: { "200": { description: "application/private-token-issuer-directory" } },
        },
      },
      "/v1/pricing": {
        get: {
          summary: "Token bundles, prices in sats, free quota, TTL and size limits",
          responses: { "200": json({ type: "object" }) },
        },
      },
      "/v1/invoices": {
        post: {
          summary: "A BIP21 invoice for token bundles (Authorization: Bearer <account>)",
          requestBody: {
            content: {
              "application/json": {
                schema: { type: "object", properties: { bundles: { type: "integer" } } },
              },
            },
          },
          responses: {
            "201": json({ type: "object" }),
            "400": problem,
            "401": problem,
            "404": problem,
          },
        },
      },
      "/v1/invoices/{id}": {
        get: {
          summary: "Invoice status",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": json({ type: "object" }), "400": problem, "404": problem },
        },
      },
      ...EXTRA_PATHS,
    },
    components: {
      schemas: {
        Id: { type: "string", pattern: "^[0-9a-f]{64}$", description: "sha256(tag || payload)" },
        Tag: { type: "string", pattern: "^[0-9a-fA-F]{40}$" },
        NewMessage: {
          type: "object",
          required: ["tag", "payload"],
          additionalProperties: false,
          properties: {
            tag: { $ref: "#/components/schemas/Tag" },
            payload: { type: "string", contentEncoding: "base64" },
            ttl_seconds: { type: "integer", minimum: 1 },
          },
        },
        Message: {
          type: "object",
          required: ["id", "tag", "payload", "received_at", "expires_at"],
          properties: {
            id: { $ref: "#/components/schemas/Id" },
            tag: { $ref: "#/components/schemas/Tag" },
            payload: { type: "string", contentEncoding: "base64" },
            received_at: { type: "integer", description: "Unix seconds" },
            expires_at: { type: "integer", description: "Unix seconds" },
          },
        },
        Problem: {
          type: "object",
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            field: { type: "string", description: "The request field at fault" },
          },
        },
      },
      securitySchemes: {
        privateToken: {
          type: "http",
          scheme: "PrivateToken",
          description: "Privacy Pass (RFC 9577)",
        },
      },
    },
  };
}
