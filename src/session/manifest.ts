import { decodeManifest, validateManifest, type Manifest, type ManifestRules } from '../bundle/manifest.js';
import { asRecord, optionalText, requiredText, type Invalid } from '../bundle/json-fields.js';
import type { BundleLimits } from '../bundle/limits.js';
import type { WorkDescription } from './work/description.js';
import { decodeWorkDescription } from './work/decode.js';

/** What the sender's git checkout was at when the session was sent. */
export interface GitInfo {
  readonly remote?: string;
  readonly branch?: string;
  readonly head?: string;
}

/** Where a Copilot session comes from: the receiver remaps paths and warns about versions with it. */
export interface SourceEnvironment {
  readonly hostname: string;
  readonly platform: string;
  /** The Copilot CLI version that wrote the session (from its session.start event). */
  readonly copilotVersion?: string;
  readonly cwd?: string;
  readonly gitRoot?: string;
  readonly git?: GitInfo;
  /**
   * The checkout's work in progress, carried with the session (`send --with-changes`): its
   * pieces travel as files under WORK_FOLDER.
   */
  readonly work?: WorkDescription;
}

/** Where the carried work's pieces travel in the bundle: never a name in a Copilot session. */
export const WORK_FOLDER = '.copilot-beam-work';

export type SessionManifest = Manifest<SourceEnvironment>;

/** Copilot names session folders by UUID; anything else could name a path outside session-state. */
export const SESSION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const SESSION_MANIFEST_RULES: ManifestRules<SourceEnvironment> = Object.freeze({
  whyIdIsInvalid: (id: string) => (SESSION_ID_PATTERN.test(id) ? null : 'the session id is not a UUID'),
  readSource: readSourceEnvironment,
});

/** A manifest from the peer, checked as hostile input, describing a Copilot session. */
export function decodeSessionManifest(bytes: Uint8Array, limits: BundleLimits): SessionManifest {
  return decodeManifest(bytes, limits, SESSION_MANIFEST_RULES);
}

export function validateSessionManifest(raw: unknown, limits: BundleLimits): SessionManifest {
  return validateManifest(raw, limits, SESSION_MANIFEST_RULES);
}

function readSourceEnvironment(raw: unknown, invalid: Invalid): SourceEnvironment {
  const record = asRecord(raw, 'the source environment', invalid);
  const hostname = requiredText(record, 'hostname', invalid);
  const platform = requiredText(record, 'platform', invalid);
  const git = record.git === undefined ? undefined : asRecord(record.git, 'the git information', invalid);
  return {
    hostname,
    platform,
    ...optionalText(record, 'copilotVersion', invalid),
    ...optionalText(record, 'cwd', invalid),
    ...optionalText(record, 'gitRoot', invalid),
    ...(git ? { git: { ...optionalText(git, 'remote', invalid), ...optionalText(git, 'branch', invalid), ...optionalText(git, 'head', invalid) } } : {}),
    ...(record.work === undefined ? {} : { work: decodeWorkDescription(record.work, invalid) }),
  };
}
