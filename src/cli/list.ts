import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../format.js';
import { listSessions } from '../session/find.js';
import { copilotHome, sessionStateDir } from '../session/home.js';
import type { CommandContext } from './context.js';
import { displayText } from '../terminal-text.js';

export interface SessionSummary {
  readonly id: string;
  readonly name: string | null;
  readonly cwd: string | null;
  readonly updatedAt: string | null;
  readonly bytes: number;
}

export async function runList(context: CommandContext): Promise<void> {
  const home = copilotHome(context.env);
  const summaries: SessionSummary[] = [];
  for (const { location, workspace } of await listSessions(home)) {
    summaries.push({
      id: location.id,
      name: workspace.name ?? null,
      cwd: workspace.cwd ?? null,
      updatedAt: workspace.updatedAt ?? null,
      bytes: await folderSize(location.dir),
    });
  }
  summaries.sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''));
  if (context.ui.json) {
    for (const summary of summaries) context.ui.emit('session', { ...summary });
    return;
  }
  if (summaries.length === 0) {
    context.ui.result('sessions', {}, [`No sessions in ${sessionStateDir(home)}`]);
    return;
  }
  const rows = summaries.map((s) => [s.id, updatedUtc(s.updatedAt), formatBytes(s.bytes), displayText(s.name ?? '', 40), displayText(s.cwd ?? '', 60)]);
  context.ui.result('sessions', {}, alignedColumns([['SESSION', 'UPDATED (UTC)', 'SIZE', 'NAME', 'FOLDER'], ...rows], [2]));
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const stats = await lstat(join(dir, name)).catch(() => undefined);
    if (!stats) continue;
    total += stats.isDirectory() ? await folderSize(join(dir, name)) : stats.isFile() ? stats.size : 0;
  }
  return total;
}

/** "2026-11-20 10:00" from an ISO time (workspace.yaml's are UTC, which the header says). */
function updatedUtc(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}

/** Rows padded into columns; the listed columns are aligned right (sizes). */
function alignedColumns(rows: readonly string[][], rightAligned: readonly number[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (rightAligned.includes(column) ? cell.padStart(widths[column]!) : column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  '),
  );
}
