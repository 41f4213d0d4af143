import { isAbsolute, relative, sep } from 'node:path';

/** An absolute path without a ".." segment: it names one place and cannot climb out of another. */
export function isPlainAbsolute(path: string): boolean {
  return isAbsolute(path) && !path.split(/[\\/]/).includes('..');
}

/** Whether `path` (a plain absolute path) is `folder` or lies below it. */
export function liesWithin(path: string, folder: string): boolean {
  if (!isPlainAbsolute(path)) return false;
  const between = relative(folder, path);
  return between === '' || (between.split(sep)[0] !== '..' && !isAbsolute(between));
}
