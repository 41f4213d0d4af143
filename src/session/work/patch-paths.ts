/**
 * The paths a patch from the peer would touch, and why one of them is refused. `git apply` has
 * its own checks (no path outside the tree, nothing beyond a symbolic link); these come first and
 * also refuse what git would allow: anything in `.git`, symbolic links and submodules.
 */
export function whyPatchIsRefused(patch: string): string | undefined {
  for (const line of patch.split('\n')) {
    const header = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (header) {
      for (const path of [header[1]!, header[2]!]) {
        const why = whyWorkPathIsUnsafe(path);
        if (why) return `${JSON.stringify(path)}: ${why}`;
      }
      continue;
    }
    const mode = /^(?:new file mode|new mode|old mode|deleted file mode|index [0-9a-f]+\.\.[0-9a-f]+) ?(\d{6})?$/.exec(line);
    if (mode?.[1] === '120000') return 'it adds or changes a symbolic link';
    if (mode?.[1] === '160000') return 'it changes a submodule';
    const moved = /^(?:rename|copy) (?:from|to) (.*)$/.exec(line);
    if (moved) return 'it renames or copies files (copilot-beam sends none)';
    const plain = /^(?:---|\+\+\+) (?:a|b)\/(.*)$/.exec(line);
    if (plain) {
      const why = whyWorkPathIsUnsafe(plain[1]!);
      if (why) return `${JSON.stringify(plain[1])}: ${why}`;
    }
  }
  return undefined;
}

/** Why a path from the peer may not be written inside a checkout, or undefined when it may. */
export function whyWorkPathIsUnsafe(path: string): string | undefined {
  if (path === '' || path.length > 4096) return 'an empty or overlong path';
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return 'an absolute path';
  if (path.includes('\\') || path.includes('\0')) return 'a backslash or NUL in the path';
  if (path.startsWith('"')) return 'a quoted path (control characters or non-ASCII names are not accepted)';
  const segments = path.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return 'an empty, "." or ".." segment';
  if (segments.some(isGitFolderName)) return 'a path inside .git';
  if (segments.some((segment) => segment.toLowerCase() === '.gitmodules')) return 'a submodule definition';
  return undefined;
}

/** .git in any case, and with the trailing dots or spaces some file systems drop. */
export function isGitFolderName(segment: string): boolean {
  return segment.replace(/[. ]+$/, '').toLowerCase() === '.git';
}
