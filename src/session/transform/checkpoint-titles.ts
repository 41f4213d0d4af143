import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A row of the checkpoint table: `| 3 | Title | 003-title.md |`. */
const ROW = /^\|\s*(\d+)\s*\|(.*)\|\s*([^|]*?)\s*\|\s*$/;

/**
 * The client copies the titles in checkpoints/index.md into the system prompt on resume: text the
 * sender wrote would speak to the model with the system's voice. Each title becomes "Checkpoint
 * N"; the table's shape and the files it points to stay. Returns how many titles were replaced.
 */
export async function neutraliseCheckpointTitles(sessionDir: string): Promise<number> {
  const path = join(sessionDir, 'checkpoints', 'index.md');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return 0;
  let replaced = 0;
  const lines = text.split('\n').map((line) => {
    const row = ROW.exec(line);
    if (!row) return line;
    const [, number, title, file] = row as unknown as [string, string, string, string];
    const neutral = `Checkpoint ${number}`;
    if (title.trim() === neutral) return line;
    replaced++;
    return `| ${number} | ${neutral} | ${file.replace(/[^A-Za-z0-9._-]/g, '')} |`;
  });
  if (replaced > 0) await writeFile(path, lines.join('\n'), { mode: 0o600 });
  return replaced;
}
