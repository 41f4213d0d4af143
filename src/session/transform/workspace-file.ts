import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { singleLineText } from '../../terminal-text.js';
import type { PathRemapper } from './path-mapping.js';
import { isPlainAbsolute, liesWithin } from './within.js';

/**
 * workspace.yaml decides where a resumed session runs (its `cwd`), and with it which folder's
 * hooks, MCP configuration and instructions the client loads. The sender's copy is not trusted:
 * the receiver writes a new one from the fields it understands, in the order the client writes
 * them, and `cwd`/`git_root` only ever name the destination checkout (or are left out, and the
 * client runs where it is started).
 */
export interface WorkspaceRebuild {
  /** The session's id: the folder name it is installed under. */
  readonly sessionId: string;
  readonly mapping?: { readonly from: string; readonly to: string };
  readonly remapper?: PathRemapper;
  /** Folders `cwd` may never lie in (the Copilot home, the session folder). */
  readonly forbidden: readonly string[];
}

export interface WorkspaceReport {
  /** Where the session will run; absent when it runs wherever the client is started. */
  readonly cwd?: string;
  /** Fields of the sender's file that were not kept. */
  readonly droppedFields: readonly string[];
}

const TEXT_FIELDS = ['branch', 'client_name', 'name', 'summary'] as const;
const FLAG_FIELDS = ['user_named'] as const;
const COUNT_FIELDS = ['summary_count', 'fork_count'] as const;
const TIME_FIELDS = ['created_at', 'updated_at'] as const;
/** The client's own order: id, cwd, git_root, branch, client_name, name, user_named, ... */
const ORDER = ['id', 'cwd', 'git_root', 'branch', 'client_name', 'name', 'summary', 'user_named', 'summary_count', 'fork_count', 'created_at', 'updated_at'];
/** Never taken from the sender: the id is the folder's, the paths the destination's. */
const RECOMPUTED = new Set(['id', 'cwd', 'git_root']);
const MAX_TEXT = 1000;

export async function rebuildWorkspaceFile(sessionDir: string, options: WorkspaceRebuild): Promise<WorkspaceReport> {
  const path = join(sessionDir, 'workspace.yaml');
  const { parse, stringify } = await import('../yaml.js');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const sent = parseRecord(text, parse);
  const kept: Record<string, unknown> = { id: options.sessionId };
  const cwd = destinationCwd(sent.cwd, options);
  if (cwd !== undefined && options.mapping) {
    kept.cwd = cwd;
    kept.git_root = options.mapping.to;
  }
  for (const key of TEXT_FIELDS) if (typeof sent[key] === 'string') kept[key] = singleLineText(sent[key], MAX_TEXT);
  for (const key of FLAG_FIELDS) if (typeof sent[key] === 'boolean') kept[key] = sent[key];
  for (const key of COUNT_FIELDS) if (Number.isSafeInteger(sent[key]) && (sent[key] as number) >= 0) kept[key] = sent[key];
  for (const key of TIME_FIELDS) if (isTimestamp(sent[key])) kept[key] = sent[key];
  const ordered = Object.fromEntries(ORDER.filter((key) => key in kept).map((key) => [key, kept[key]]));
  await writeFile(path, stringify(ordered, { lineWidth: 0 }), { mode: 0o600 });
  const droppedFields = Object.keys(sent).filter((key) => !RECOMPUTED.has(key) && !(key in kept));
  return { ...(kept.cwd !== undefined ? { cwd: kept.cwd as string } : {}), droppedFields };
}

function parseRecord(text: string | undefined, parse: (source: string) => unknown): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const parsed = parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The sender's cwd moved into the destination when it lay under the session's root (a package
 * folder of the checkout, say), else the destination itself; never a path with "..", and never
 * inside a forbidden folder.
 */
function destinationCwd(sentCwd: unknown, options: WorkspaceRebuild): string | undefined {
  if (!options.mapping) return undefined;
  const moved = typeof sentCwd === 'string' && options.remapper ? options.remapper.remap(sentCwd) : undefined;
  const candidate = moved !== undefined && moved !== sentCwd ? moved : options.mapping.to;
  const mayRunIn = (folder: string): boolean => isPlainAbsolute(folder) && !options.forbidden.some((root) => liesWithin(folder, root));
  if (mayRunIn(candidate) && liesWithin(candidate, options.mapping.to)) return candidate;
  return mayRunIn(options.mapping.to) ? options.mapping.to : undefined;
}

function isTimestamp(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value);
}
