import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** The tail read first; doubled until a prompt turns up, up to the last. */
const FIRST_WINDOW_BYTES = 64 * 1024;
const LAST_WINDOW_BYTES = 1024 * 1024;
/** Only the start of a prompt is ever shown; that much is scanned for secrets. */
const SHOWN_CHARACTERS = 500;

/**
 * The start of what the person last asked in this session (the newest `user.message`), to tell
 * sessions apart in a picker, with any secret in it replaced by a marker (the screen may be
 * shared). Only the end of events.jsonl is read: a history can be gigabytes.
 */
export async function lastPrompt(sessionDir: string): Promise<string | undefined> {
  const prompt = (await newestPromptIn(sessionDir))?.slice(0, SHOWN_CHARACTERS);
  if (!prompt) return undefined;
  const { findSecrets, redact } = await import('./secrets/rules.js'); // secretlint loads on use
  return redact(prompt, await findSecrets(prompt, 'prompt'));
}

async function newestPromptIn(sessionDir: string): Promise<string | undefined> {
  const handle = await open(join(sessionDir, 'events.jsonl'), 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    for (let window = FIRST_WINDOW_BYTES; ; window *= 2) {
      const start = Math.max(0, size - window);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      const lines = buffer.toString('utf8').split('\n');
      // A window that starts mid-file starts mid-line: that first piece is not an event.
      const whole = start > 0 ? lines.slice(1) : lines;
      const found = newestPrompt(whole);
      if (found !== undefined || start === 0 || window >= LAST_WINDOW_BYTES) return found;
    }
  } finally {
    await handle.close();
  }
}

function newestPrompt(lines: readonly string[]): string | undefined {
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!;
    if (!line.includes('"user.message"')) continue;
    try {
      const event = JSON.parse(line) as { type?: unknown; data?: { content?: unknown } };
      if (event.type === 'user.message' && typeof event.data?.content === 'string') return event.data.content;
    } catch {
      // a line being written, or not an event: look further back
    }
  }
  return undefined;
}
