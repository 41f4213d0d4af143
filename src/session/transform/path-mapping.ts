/**
 * Rewrites absolute paths of the source machine to the receiving checkout. Only whole-path
 * prefixes match: `/Users/alice/app` maps `/Users/alice/app/src/x.ts` but not
 * `/Users/alice/app2` or `/x/Users/alice/app`. Windows sources (`C:\Users\alice\app`) match
 * case-insensitively with either separator, and the rest of a matched path gets `/` separators.
 */
export interface PathMapping {
  readonly from: string;
  readonly to: string;
}

type Style = 'posix' | 'windows';

export function pathStyle(path: string): Style {
  return /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\') ? 'windows' : 'posix';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Characters that continue a path: a match followed by one of these is a longer, other path. */
const PATH_CHAR = '[A-Za-z0-9_.~@%+=-]';

export class PathRemapper {
  private readonly pattern: RegExp;
  private readonly style: Style;
  private readonly to: string;

  constructor(mapping: PathMapping) {
    this.style = pathStyle(mapping.from);
    this.to = mapping.to.replace(/\/+$/, '');
    const from = mapping.from.replace(/[\\/]+$/, '');
    const body =
      this.style === 'windows'
        ? from.split(/[\\/]+/).map(escapeRegExp).join('[\\\\/]')
        : escapeRegExp(from);
    const tail = this.style === 'windows' ? "((?:[\\\\/][^\\\\/\\s\"'`<>|:*?]*)*)" : '';
    // Not preceded by a path character or separator; not followed by a path character.
    this.pattern = new RegExp(`(?<![A-Za-z0-9_.~@%+-]|[\\\\/])${body}${tail}(?!${PATH_CHAR})`, this.style === 'windows' ? 'gi' : 'g');
  }

  remap(text: string): string {
    if (this.style === 'posix') return text.replace(this.pattern, this.to);
    return text.replace(this.pattern, (_match, rest: string | undefined) => this.to + (rest ?? '').replace(/\\/g, '/'));
  }

  /** Deep copy of a JSON value with every string remapped; counts the strings that changed. */
  remapJson<T>(value: T, changes: { count: number } = { count: 0 }): T {
    if (typeof value === 'string') {
      const remapped = this.remap(value);
      if (remapped !== value) changes.count++;
      return remapped as T;
    }
    if (Array.isArray(value)) return value.map((item) => this.remapJson(item, changes)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.remapJson(item, changes)])) as T;
    }
    return value;
  }
}
