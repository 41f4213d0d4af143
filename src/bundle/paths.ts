import { MAX_PATH_DEPTH, MAX_PATH_LENGTH, MAX_SEGMENT_BYTES } from './limits.js';

/**
 * A bundle path is relative, uses '/' only, and every segment is a plain name: no '.', '..',
 * empty segments, control characters or drive letters. Returns why a path is refused, or null.
 */
export function whyPathIsUnsafe(path: unknown): string | null {
  if (typeof path !== 'string') return 'is not a string';
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  // Paths are shown to a person: an ESC or a newline in one could rewrite what they see.
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains control characters';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  const segments = path.split('/');
  if (segments.length > MAX_PATH_DEPTH) return `is nested deeper than ${MAX_PATH_DEPTH} levels`;
  for (const segment of segments) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

export function parentPaths(path: string): string[] {
  const segments = path.split('/');
  const parents: string[] = [];
  for (let i = 1; i < segments.length; i++) parents.push(segments.slice(0, i).join('/'));
  return parents;
}
