/**
 * Federation: a Kademlia DHT between Subspace servers, tree broadcast of insertion notices,
 * body fetch, provider records and catch-up. The wire protocol is in docs/federation.md.
 *
 * @module
 */
export { type BroadcastEntry, Broadcaster, type BroadcastStats, MAX_TREES } from "./broadcast.ts";
export { type Clock, settle, sleep, systemClock, VirtualClock } from "./clock.ts";
export {
  type Contact,
  type ContactJson,
  contactToJson,
  parseContact,
  parseNodeUrl,
} from "./contact.ts";
export {
  HEADER,
  NonceCache,
  RPC_NAMES,
  type RpcName,
  signRequest,
  signResponse,
  verifyRequest,
  verifyResponse,
  type WireRequest,
  type WireResponse,
} from "./envelope.ts";
export { httpRpcHandler, HttpTransport } from "./http_transport.ts";
export {
  bucketIndex,
  compareDistance,
  ID_BITS,
  keyOfMessageId,
  type NodeId,
  nodeIdFromPublicKey,
  parseNodeId,
  randomId,
  xorDistance,
} from "./id.ts";
export {
  generateIdentity,
  identityFromSecretKey,
  loadOrCreateIdentity,
  NODE_KEY_FILE,
  type NodeIdentity,
  secp256k1Scheme,
  type SignatureScheme,
} from "./identity.ts";
export { iterativeLookup, type LookupEvent, type LookupOptions } from "./lookup.ts";
export { MemoryNetwork, type MemoryNetworkOptions } from "./memory_transport.ts";
export {
  DEFAULT_LIMITS,
  type DhtLimits,
  DhtNode,
  type DhtNodeOptions,
  type DhtNodeStats,
  RpcError,
} from "./node.ts";
export {
  MAX_NOTICE_GROUP,
  type Notice,
  NOTICE_ROOT_DOMAIN,
  type NoticeFields,
  type NoticeJson,
  noticeKey,
  type NoticeProof,
  type NoticeProofJson,
  noticeSigningBytes,
  noticeToJson,
  parseNotice,
  signNotice,
  signNotices,
  VerifiedRoots,
  verifyNotice,
} from "./notice.ts";
export {
  MAX_MERKLE_LEAVES,
  MAX_PROOF_LEVELS,
  merkleLeafHash,
  merkleNodeHash,
  type MerkleProof,
  merkleRootFromProof,
  merkleTree,
} from "./merkle.ts";
export {
  type AddNoticeResult,
  MemoryNoticeStore,
  type NoticePage,
  type NoticeStore,
} from "./notice_store.ts";
export { type ProviderRecord, ProviderStore } from "./providers.ts";
export { cryptoRandom, type Random, seededRandom } from "./random.ts";
export {
  DEFAULT_RANGE_LIMITS,
  type RangeLimits,
  RoutingTable,
  type RoutingTableSnapshot,
} from "./routing_table.ts";
export { type BodySource, type StoredBody } from "./rpc/_shared.ts";
export { messageIdOf } from "./rpc/fetch.ts";
export { type RequestMeta, type RpcHandler, type Transport, TransportError } from "./transport.ts";
export {
  CATCH_UP_MARGIN_MS,
  FEDERATION,
  type Federation,
  federationFeature,
  STATE_FILE,
} from "./feature.ts";
export { SqlNoticeStore } from "./sql_notice_store.ts";
export { type PeerRtt, RttTransport, type RttTransportOptions } from "./rtt.ts";
export { DHT_MIGRATIONS } from "./migration.ts";
