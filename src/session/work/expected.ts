import type { ManifestFile } from '../../bundle/manifest.js';
import { WORK_FILES, type WorkDescription } from './description.js';

/**
 * Why the files a manifest lists under the work folder are not exactly the pieces its work
 * description calls for (the bundle when there are commits, each patch it names, each untracked
 * file), or undefined when they are. Nothing else may ride along in the work folder.
 */
export function whyWorkFilesDiffer(description: WorkDescription | undefined, files: readonly ManifestFile[], directories: readonly string[], folder: string): string | undefined {
  const prefix = `${folder}/`;
  const listed = new Set(files.filter((file) => file.path.startsWith(prefix)).map((file) => file.path.slice(prefix.length)));
  const folders = directories.filter((path) => path === folder || path.startsWith(prefix));
  if (!description) return listed.size > 0 || folders.length > 0 ? `it lists files under ${folder} without describing any work` : undefined;
  const expected = new Set<string>([
    ...(description.commits > 0 ? [WORK_FILES.bundle] : []),
    ...(description.staged ? [WORK_FILES.staged] : []),
    ...(description.unstaged ? [WORK_FILES.unstaged] : []),
    ...description.untracked.map((file) => `${WORK_FILES.untracked}/${file.path}`),
  ]);
  for (const path of expected) if (!listed.has(path)) return `its work is missing ${path}`;
  for (const path of listed) if (!expected.has(path)) return `its work folder holds ${JSON.stringify(path.slice(0, 200))}, which its description does not call for`;
  return undefined;
}
