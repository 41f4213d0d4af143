import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathRemapper } from './path-mapping.js';

/** Remaps every path in workspace.yaml (cwd, git_root, ...) keeping the rest of the file as it was. */
export async function remapWorkspaceFile(sessionDir: string, remapper: PathRemapper): Promise<number> {
  const path = join(sessionDir, 'workspace.yaml');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return 0;
  const { isScalar, parseDocument, visit } = await import('yaml'); // loaded on use: ~20 ms at start-up
  const document = parseDocument(text);
  let changed = 0;
  visit(document, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string') return;
      const remapped = remapper.remap(node.value);
      if (remapped !== node.value) {
        node.value = remapped;
        changed++;
      }
    },
  });
  if (changed > 0) await writeFile(path, document.toString(), { mode: 0o600 });
  return changed;
}
