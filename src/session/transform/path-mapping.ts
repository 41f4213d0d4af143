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
  /** The source folder as it appears inside a JSON string, for a cheap test before parsing. */
  private readonly jsonNeedle: string | undefined;
  /** The source folder as plain text (POSIX only), which every match must contain. */
  private readonly plainNeedle: string | undefined;

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
    // Windows paths match case-insensitively with either separator: no single needle for those.
    this.plainNeedle = this.style === 'posix' ? from : undefined;
    this.jsonNeedle = this.style === 'posix' ? JSON.stringify(from).slice(1, -1) : undefined;
    this.pattern = new RegExp(`(?<![A-Za-z0-9_.~@%+-]|[\\\\/])${body}${tail}(?!${PATH_CHAR})`, this.style === 'windows' ? 'gi' : 'g');
  }

  /**
   * False only when `jsonText` (JSON as written by a JSON encoder) cannot contain the source
   * folder; true means "maybe". A text that spells the path with \u escapes is left unmapped,
   * which only costs that text its convenience rewrite.
   */
  mayOccurIn(jsonText: string): boolean {
    return this.jsonNeedle === undefined || jsonText.includes(this.jsonNeedle);
  }

  remap(text: string): string {
    if (this.style === 'posix') return text.replace(this.pattern, this.to);
    return text.replace(this.pattern, (_match, rest: string | undefined) => this.to + (rest ?? '').replace(/\\/g, '/'));
  }

  /**
   * A JSON value with every string remapped; counts the strings that changed. Parts without a
   * change are shared with the input, so an event with no source path costs no copying.
   */
  remapJson<T>(value: T, changes: { count: number } = { count: 0 }): T {
    if (typeof value === 'string') {
      if (this.plainNeedle !== undefined && !value.includes(this.plainNeedle)) return value;
      const remapped = this.remap(value);
      if (remapped !== value) changes.count++;
      return remapped as T;
    }
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const remapped = this.remapJson(value[i] as unknown, changes);
        if (remapped !== value[i]) (copy ??= [...value])[i] = remapped;
      }
      return (copy ?? value) as T;
    }
    if (value !== null && typeof value === 'object') {
      const source = value as Record<string, unknown>;
      let copy: Record<string, unknown> | undefined;
      for (const [key, item] of Object.entries(source)) {
        const remapped = this.remapJson(item, changes);
        // defineProperty, not assignment: a "__proto__" key from JSON.parse must stay a plain key.
        if (remapped !== item) Object.defineProperty((copy ??= { ...source }), key, { value: remapped, enumerable: true, writable: true, configurable: true });
      }
      return (copy ?? value) as T;
    }
    return value;
  }
}
