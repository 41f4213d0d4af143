import type { SecretLocation } from '../session/secrets/scan.js';
import { displayText } from '../terminal-text.js';

/**
 * Where the scan found secrets, one per line ("events.jsonl line 1234: GITHUB_TOKEN"), so a person
 * can look before deciding; the value itself is never shown. `found` counts them all, including
 * those beyond the list.
 */
export function secretLocationLines(locations: readonly SecretLocation[], found: number, shown: number, indent = '    '): string[] {
  const lines = locations.slice(0, shown).map((location) => `${indent}${displayText(location.path, 200)} line ${location.line}: ${displayText(location.kind, 60)}`);
  const more = found - Math.min(shown, locations.length);
  if (more > 0) lines.push(`${indent}(and ${more} more)`);
  return lines;
}
