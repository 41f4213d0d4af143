import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A row of the checkpoint table: `| 3 | Title | 003-title.md |`. */
const ROW = /^\|\s*(\d+)\s*\|(.*)\|\s*([^|]*?)\s*\|\s*$/;

/**
 * The client lists every checkpoint in the system prompt on resume, as "<file> - <title>" from
 * checkpoints/index.md: text the sender wrote, in either column, would speak to the model with
 * the system's voice. Each title becomes "Checkpoint N" and each file is renamed to
 * "checkpoint-N.md" (the file itself, inside checkpoints/, moves with it). Returns how many rows
 * were changed.
 */
export async function neutraliseCheckpointTitles(sessionDir: string): Promise<number> {
  const folder = join(sessionDir, 'checkpoints');
  const path = join(folder, 'index.md');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return 0;
  let changed = 0;
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const row = ROW.exec(line);
    if (!row) {
      lines.push(line);
      continue;
    }
    const [, number, title, file] = row as unknown as [string, string, string, string];
    const neutralTitle = `Checkpoint ${number}`;
    const neutralFile = `checkpoint-${number}.md`;
    if (title.trim() === neutralTitle && file === neutralFile) {
      lines.push(line);
      continue;
    }
    changed++;
    await moveCheckpointFile(folder, file, neutralFile);
    lines.push(`| ${number} | ${neutralTitle} | ${neutralFile} |`);
  }
  if (changed > 0) await writeFile(path, lines.join('\n'), { mode: 0o600 });
  return changed;
}

/** Renames a checkpoint file named by the table, when it is a plain file name inside the folder. */
async function moveCheckpointFile(folder: string, from: string, to: string): Promise<void> {
  if (from === to || from === '' || /[\\/]/.test(from) || from === '.' || from === '..' || from === 'index.md') return;
  const exists = async (name: string): Promise<boolean> => (await stat(join(folder, name)).catch(() => undefined))?.isFile() ?? false;
  if ((await exists(from)) && !(await exists(to))) await rename(join(folder, from), join(folder, to));
}
