import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { ManifestFile } from '../../bundle/manifest.js';
import { findSecrets, redact } from './rules.js';

/** Text is handed to the rules in pieces of about this size, cut at line ends. */
const PIECE_CHARS = 1024 * 1024;

export interface SecretSummary {
  readonly found: number;
  readonly redacted: boolean;
  /** Count per kind; values are never kept. */
  readonly kinds: Record<string, number>;
  readonly filesScanned: number;
  readonly bytesScanned: number;
}

export interface RedactedFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface ScanResult {
  readonly summary: SecretSummary;
  /** With redaction: bundle path -> the redacted copy to send instead. */
  readonly replacements: ReadonlyMap<string, RedactedFile>;
}

/**
 * Scans every text file of a session (events.jsonl first: that is where command output lives).
 * A file is text when it is valid UTF-8 without NUL bytes. With `redactInto`, every file with a
 * finding is also written there with each secret replaced by `[redacted:<KIND>]`; the session
 * folder itself is only read.
 */
export async function scanForSecrets(root: string, files: readonly ManifestFile[], redactInto?: string): Promise<ScanResult> {
  const kinds: Record<string, number> = {};
  const replacements = new Map<string, RedactedFile>();
  let found = 0;
  let filesScanned = 0;
  let bytesScanned = 0;
  const ordered = [...files].sort((a, b) => Number(b.path === 'events.jsonl') - Number(a.path === 'events.jsonl'));
  for (const file of ordered) {
    const result = await scanFile(join(root, file.path), file.path, redactInto ? join(redactInto, file.path) : undefined);
    if (!result) continue;
    filesScanned++;
    bytesScanned += file.size;
    for (const kind of result.kinds) {
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      found++;
    }
    if (result.redacted) replacements.set(file.path, result.redacted);
  }
  return { summary: { found, redacted: redactInto !== undefined, kinds, filesScanned, bytesScanned }, replacements };
}

interface FileScan {
  readonly kinds: string[];
  readonly redacted?: RedactedFile;
}

/**
 * Returns undefined for a binary file. When redacting, the copy is written piece by piece as the
 * scan goes (memory stays at one piece) and deleted again if nothing was found.
 */
async function scanFile(path: string, name: string, redactedPath: string | undefined): Promise<FileScan | undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const kinds: string[] = [];
  const copy = redactedPath ? new RedactedCopy(redactedPath) : undefined;
  let pending = '';
  const scanPiece = async (text: string): Promise<void> => {
    const matches = await findSecrets(text, name);
    for (const match of matches) kinds.push(match.kind);
    await copy?.write(matches.length > 0 ? redact(text, matches) : text);
  };
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      if (chunk.includes(0)) {
        await copy?.discard();
        return undefined;
      }
      pending += decoder.decode(chunk, { stream: true });
      while (pending.length >= PIECE_CHARS) {
        const cut = pending.lastIndexOf('\n', PIECE_CHARS) + 1 || PIECE_CHARS;
        await scanPiece(pending.slice(0, cut));
        pending = pending.slice(cut);
      }
    }
    pending += decoder.decode();
    if (pending.length > 0) await scanPiece(pending);
  } catch (error) {
    await copy?.discard();
    if (error instanceof TypeError) return undefined; // not UTF-8: not text
    throw error;
  }
  if (!copy) return { kinds };
  if (kinds.length === 0) {
    await copy.discard();
    return { kinds };
  }
  return { kinds, redacted: await copy.finish() };
}

/** The redacted copy of one file, opened on its first write. */
class RedactedCopy {
  private readonly hash = createHash('sha256');
  private size = 0;
  private out: WriteStream | undefined;

  constructor(private readonly path: string) {}

  async write(text: string): Promise<void> {
    if (!this.out) {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      this.out = createWriteStream(this.path, { mode: 0o600 });
    }
    const bytes = Buffer.from(text, 'utf8');
    this.hash.update(bytes);
    this.size += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  async finish(): Promise<RedactedFile> {
    await this.close();
    return { path: this.path, size: this.size, sha256: this.hash.digest('hex') };
  }

  async discard(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  private async close(): Promise<void> {
    if (!this.out || this.out.closed) return;
    const closed = once(this.out, 'close');
    this.out.end();
    await closed;
  }
}
