import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';

/**
 * secretlint's core marks the start and end of every lint and rule with performance.mark, and
 * its profiler (always on) keeps every mark and searches all of them at each end mark: over a
 * large scan that grew without bound and took seconds of the scanning thread (400 pieces: 1.4 s
 * after the last one). Nothing here reads the profile, so the marks are switched off, on the
 * very instance the core uses: a direct dependency pinned to the core's exact version, imported
 * statically, so that npm installs one copy and the bundler holds one module (a test checks the
 * first, scripts/bundle.ts the second).
 */
secretLintProfiler.mark = () => undefined;

/**
 * secretlint's recommended preset: maintained rules for cloud keys, tokens, private keys and
 * connection strings, with few false positives (it knows documented example keys). We use only
 * its core on text we hand it, so no file is read or written by the library itself.
 * prefilter.ts derives its anchors from exactly this configuration (no rule options, and
 * `findSecrets` passes no file extension): change the two together.
 */
const CONFIG = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommendedPreset }] };

export interface SecretMatch {
  /** What kind of secret, e.g. GITHUB_TOKEN or AWS_SECRET_ACCESS_KEY; never the value. */
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

export async function findSecrets(text: string, fileName: string): Promise<SecretMatch[]> {
  const result = await lintSource({
    source: { filePath: fileName, content: text, ext: '', contentType: 'text' },
    options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: true },
  });
  const matches: SecretMatch[] = [];
  for (const message of result.messages) {
    if (message.type !== 'message') continue;
    matches.push({ kind: message.messageId || message.ruleId, start: message.range[0], end: message.range[1] });
  }
  return matches.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** Replaces every match with a marker naming its kind; overlapping matches collapse into the first. */
export function redact(text: string, matches: readonly SecretMatch[]): string {
  let out = '';
  let cursor = 0;
  for (const match of matches) {
    if (match.start < cursor) continue;
    out += `${text.slice(cursor, match.start)}[redacted:${match.kind}]`;
    cursor = match.end;
  }
  return out + text.slice(cursor);
}
