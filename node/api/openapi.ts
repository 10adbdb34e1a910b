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
