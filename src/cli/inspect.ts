import { displayText } from '../terminal-text.js';
import { formatBytes } from '../format.js';
import { copilotHome } from '../session/home.js';
import { prepareOutgoing } from '../session/outgoing.js';
import type { CommandContext } from './context.js';
import { secretLocationLines } from './secret-locations.js';

/** Secret locations listed before "(and N more)"; --json has up to the scan's own limit. */
const LOCATIONS_SHOWN = 50;

/** What `send` would send, without any network: files, sizes, secrets by kind, paths to remap. */
export async function runInspect(query: string | undefined, context: CommandContext): Promise<void> {
  const outgoing = await prepareOutgoing(copilotHome(context.env), query, process.cwd(), { redact: false });
  try {
    const { manifest, secrets, skipped, leftOut } = outgoing;
    const machineLocal = skipped.filter((path) => !leftOut.includes(path));
    const root = manifest.source.gitRoot ?? manifest.source.cwd;
    const lines = [
      `Session ${manifest.sessionId}${manifest.sessionName ? ` "${displayText(manifest.sessionName, 80)}"` : ''}`,
      `  ${manifest.files.length} files, ${formatBytes(manifest.totalBytes)}; left out (machine-local): ${machineLocal.length ? machineLocal.map((path) => displayText(path)).join(', ') : 'nothing'}`,
      ...(leftOut.length ? [`  left out (not part of a Copilot session): ${leftOut.map((path) => displayText(path)).join(', ')}`] : []),
      ...manifest.files.map((file) => `    ${formatBytes(file.size).padStart(8)}  ${file.path}`),
      `  secrets: ${secrets.found === 0 ? 'none found' : Object.entries(secrets.kinds).map(([kind, count]) => `${count} ${kind}`).join(', ')} (${secrets.filesScanned} text files scanned)`,
      ...secretLocationLines(secrets.locations, secrets.found, LOCATIONS_SHOWN),
      `  paths to remap on the receiver: ${root ? `everything under ${displayText(root)}` : 'none recorded'}`,
      `  repository: ${manifest.source.git?.remote ? displayText(manifest.source.git.remote) : 'unknown (the receiver will need --cwd)'}`,
      `  written by Copilot CLI ${manifest.source.copilotVersion ?? '(unknown version)'}`,
    ];
    context.ui.result('inspect', { manifest, secrets, skipped, leftOut, remapRoot: root ?? null }, lines);
  } finally {
    await outgoing.dispose();
  }
}
