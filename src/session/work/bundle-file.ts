import { open } from 'node:fs/promises';

/** The parts of a git bundle file (format v2 or v3) copilot-beam reads itself. */
export interface BundleHeader {
  /** Commits the receiver must already have ("-<sha>" lines). */
  readonly prerequisites: readonly string[];
  readonly refs: ReadonlyArray<{ readonly sha: string; readonly name: string }>;
  /** Where the pack data starts. */
  readonly packOffset: number;
}

const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Reads a bundle's header: the commits it needs, the refs it names and where its pack begins,
 * so the pack can be indexed with `git index-pack --strict` (which checks every object the way
 * `git fsck` does; `git bundle unbundle` does not, measured with git 2.39).
 */
export async function readBundleHeader(path: string): Promise<BundleHeader | undefined> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let read = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, read);
      if (bytesRead === 0) return undefined;
      chunks.push(chunk.subarray(0, bytesRead));
      read += bytesRead;
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\n\n');
      if (end >= 0) return parseHeader(text.slice(0, end + 1), end + 2);
      if (read > MAX_HEADER_BYTES) return undefined;
    }
  } finally {
    await handle.close();
  }
}

function parseHeader(text: string, packOffset: number): BundleHeader | undefined {
  const lines = text.split('\n').filter((line) => line !== '');
  if (lines[0] !== '# v2 git bundle' && lines[0] !== '# v3 git bundle') return undefined;
  const prerequisites: string[] = [];
  const refs: Array<{ sha: string; name: string }> = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('@')) {
      // v3 capabilities: only the default object format is understood.
      if (line !== '@object-format=sha1') return undefined;
      continue;
    }
    const prerequisite = /^-([0-9a-f]{40})(?: .*)?$/.exec(line);
    if (prerequisite) {
      prerequisites.push(prerequisite[1]!);
      continue;
    }
    const ref = /^([0-9a-f]{40}) (\S+)$/.exec(line);
    if (!ref) return undefined;
    refs.push({ sha: ref[1]!, name: ref[2]! });
  }
  return { prerequisites, refs, packOffset };
}
