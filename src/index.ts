/**
 * copilot-beam as a library: `send` and `receive` run a whole beam and ask the decisions you
 * pass whenever a person must decide or be told. See README.md, "Use it from code".
 */
export {
  send,
  receive,
  networkSettings,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SEARCH_TIMEOUT_MS,
  PERSON_TIMEOUT_MS,
  type SendRequest,
  type SendResult,
  type ReceiveRequest,
  type ReceiveResult,
  type SenderDecisions,
  type SenderNews,
  type ReceiverDecisions,
  type ReceiverNews,
  type CodeToShow,
  type NetworkSettings,
  type ReceiverEnvironment,
  type SecretSummary,
  type SessionManifest,
  type SourceEnvironment,
  type Destination,
  type TransformReport,
  type InstallReview,
} from './beam/index.js';
export { BeamError, EXIT_CODES, type ErrorKind } from './errors.js';
export { parseCode, formatCode, type Code } from './code/code.js';
export { verificationPhrase } from './code/phrase.js';
export { copilotHome } from './session/home.js';
export { parseBootstrapList, type BootstrapNode } from './transport/bootstrap.js';
export { parseRelayKey } from './transport/relay-key.js';
export type { PeerHandle, PeerSocket, PeerSwarm } from './transport/rendezvous.js';
