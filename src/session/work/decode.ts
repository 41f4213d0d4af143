import { asRecord, optionalText, requiredText, type Invalid } from '../../bundle/json-fields.js';
import type { UntrackedFile, WorkDescription } from './description.js';
import { whyWorkPathIsUnsafe } from './patch-paths.js';

/** Untracked files one description may list (each is also a file in the manifest, under its limits). */
const MAX_UNTRACKED = 20_000;
const MAX_STATUS_CHARACTERS = 4 * 1024 * 1024;
/** Boundary commits of one bundle: one per merge parent the unpushed history reaches. */
const MAX_BASE = 1000;

/** The work description from the peer's manifest, checked as hostile input. */
export function decodeWorkDescription(raw: unknown, invalid: Invalid): WorkDescription {
  const record = asRecord(raw, 'the work description', invalid);
  if (record.format !== 1) throw invalid('its work description has an unknown format');
  const head = requiredText(record, 'head', invalid);
  if (!/^[0-9a-f]{40}$/.test(head)) throw invalid('its work description names no commit');
  const commits = record.commits;
  if (typeof commits !== 'number' || !Number.isSafeInteger(commits) || commits < 0) throw invalid('its work description has a bad commit count');
  if (typeof record.staged !== 'boolean' || typeof record.unstaged !== 'boolean') throw invalid('its work description has bad flags');
  const base = record.base;
  if (!Array.isArray(base) || base.length > MAX_BASE || !base.every((sha): sha is string => typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha))) {
    throw invalid('its work description has a bad base');
  }
  if (typeof record.status !== 'string' || record.status.length > MAX_STATUS_CHARACTERS) throw invalid('its work description has a bad status');
  if (!Array.isArray(record.untracked) || record.untracked.length > MAX_UNTRACKED) throw invalid('its work description has a bad list of untracked files');
  const untracked = record.untracked.map((entry): UntrackedFile => {
    const file = asRecord(entry, 'an untracked file', invalid);
    const path = requiredText(file, 'path', invalid);
    const why = whyWorkPathIsUnsafe(path);
    if (why) throw invalid(`untracked file ${JSON.stringify(path.slice(0, 200))}: ${why}`);
    const mode = file.mode;
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) throw invalid('an untracked file has a bad mode');
    return { path, mode };
  });
  const branch = optionalText(record, 'branch', invalid);
  return { format: 1, ...branch, head, commits, base, staged: record.staged, unstaged: record.unstaged, untracked, status: record.status };
}
