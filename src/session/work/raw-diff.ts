/** git's file modes for a symbolic link and a submodule (gitlink) entry. */
export const SYMLINK_MODE = '120000';
export const GITLINK_MODE = '160000';

/** One line of `git diff --raw` (or diff-tree, diff-index) without renames. */
export interface RawChange {
  readonly oldMode: string;
  readonly newMode: string;
  readonly newSha: string;
  readonly status: string;
  readonly path: string;
}

/** `--raw -z` output: ":old new oldsha newsha status\0path\0" per change. */
export function parseRawDiff(raw: Buffer): RawChange[] {
  const fields = raw.toString('utf8').split('\0');
  const changes: RawChange[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const [oldMode, newMode, , newSha, status] = fields[index]!.replace(/^:/, '').split(' ');
    changes.push({ oldMode: oldMode!, newMode: newMode!, newSha: newSha!, status: status!, path: fields[index + 1]! });
  }
  return changes;
}
