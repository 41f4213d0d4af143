import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, platform } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { GitInfo, SourceEnvironment } from './manifest.js';
import { git } from './repository.js';

export interface WorkspaceInfo {
  readonly name?: string;
  readonly cwd?: string;
  readonly gitRoot?: string;
  readonly branch?: string;
  readonly updatedAt?: string;
}

export async function readWorkspace(sessionDir: string): Promise<WorkspaceInfo> {
  let parsed: unknown;
  try {
    const { parse: parseYaml } = await import('./yaml.js');
    parsed = parseYaml(await readFile(join(sessionDir, 'workspace.yaml'), 'utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const record = parsed as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
    return value instanceof Date ? value.toISOString() : undefined;
  };
  return withoutUndefined({
    name: text('name'),
    cwd: text('cwd'),
    gitRoot: text('git_root'),
    branch: text('branch'),
    updatedAt: text('updated_at'),
  });
}

/** Optional fields stay absent rather than undefined, so JSON and equality checks stay clean. */
function withoutUndefined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/** The writer's version is in the first session.start event; read only until it is found. */
export async function readCopilotVersion(sessionDir: string, maxLines = 50): Promise<string | undefined> {
  const stream = createReadStream(join(sessionDir, 'events.jsonl'), { encoding: 'utf8' });
  stream.on('error', () => undefined);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let seen = 0;
  try {
    for await (const line of lines) {
      if (++seen > maxLines) break;
      try {
        const event = JSON.parse(line) as { type?: unknown; data?: { copilotVersion?: unknown } };
        if (event.type === 'session.start' && typeof event.data?.copilotVersion === 'string') return event.data.copilotVersion;
      } catch {
        // a torn or foreign line: keep looking
      }
    }
  } catch {
    return undefined;
  } finally {
    lines.close();
    stream.destroy();
  }
  return undefined;
}

export async function readGitInfo(root: string | undefined, branch: string | undefined): Promise<GitInfo | undefined> {
  if (!root) return branch ? { branch } : undefined;
  const [remote, head, currentBranch] = await Promise.all([
    git(root, ['remote', 'get-url', 'origin']),
    git(root, ['rev-parse', 'HEAD']),
    git(root, ['rev-parse', '--abbrev-ref', 'HEAD']),
  ]);
  const info: GitInfo = withoutUndefined({ remote, branch: branch ?? currentBranch, head });
  return Object.keys(info).length > 0 ? info : undefined;
}

export async function describeSource(sessionDir: string, workspace: WorkspaceInfo): Promise<SourceEnvironment> {
  const [copilotVersion, gitInfo] = await Promise.all([
    readCopilotVersion(sessionDir),
    readGitInfo(workspace.gitRoot, workspace.branch),
  ]);
  return {
    hostname: hostname(),
    platform: platform(),
    ...withoutUndefined({ copilotVersion, cwd: workspace.cwd, gitRoot: workspace.gitRoot, git: gitInfo }),
  };
}
