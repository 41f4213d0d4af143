import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_MODEL_ID } from './fake-model.js';

/** The real client from the @github/copilot devDependency, if npm could install it here. */
export const COPILOT_BIN = fileURLToPath(new URL('../../../node_modules/.bin/copilot', import.meta.url));

export function copilotAvailable(): boolean {
  return existsSync(COPILOT_BIN);
}

/**
 * The standalone client unpacks about 235 MB into $HOME/.cache on first run; one HOME for every
 * test keeps that to once per machine. COPILOT_HOME (sessions) is per test.
 */
const SHARED_HOME = join(tmpdir(), 'copilot-beam-interop-home');

export interface CopilotRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CopilotOptions {
  readonly copilotHome: string;
  readonly modelUrl: string;
  readonly cwd: string;
  readonly args: readonly string[];
  readonly timeoutMs?: number;
  /** Called with the child once started, e.g. to kill it mid-tool. */
  readonly onStart?: (kill: () => void) => void;
}

export function copilotEnv(copilotHome: string, modelUrl: string): NodeJS.ProcessEnv {
  mkdirSync(SHARED_HOME, { recursive: true });
  return {
    PATH: process.env.PATH,
    HOME: SHARED_HOME,
    COPILOT_HOME: copilotHome,
    COPILOT_OFFLINE: 'true',
    COPILOT_PROVIDER_BASE_URL: modelUrl,
    COPILOT_MODEL: FAKE_MODEL_ID,
    NO_COLOR: '1',
  };
}

export function runCopilot(options: CopilotOptions): Promise<CopilotRun> {
  return new Promise((resolve) => {
    const child = spawn(COPILOT_BIN, [...options.args, '--no-auto-update'], {
      cwd: options.cwd,
      env: copilotEnv(options.copilotHome, options.modelUrl),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: the npm loader runs the real binary as a child, which runs tools
      // as grandchildren; killing only the loader would leave the client running.
      detached: true,
    });
    const killAll = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (text) => (stdout += String(text)));
    child.stderr.on('data', (text) => (stderr += String(text)));
    const timer = setTimeout(killAll, options.timeoutMs ?? 120_000);
    options.onStart?.(killAll);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      killAll();
      resolve({ exitCode: code ?? (signal === 'SIGKILL' ? 137 : 1), stdout, stderr });
    });
  });
}

/** The version of the real client npm installed. */
export function copilotPackageVersion(): string {
  const url = new URL('../../../node_modules/@github/copilot/package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * The event schema the installed client ships (inside the package it unpacks on first run: a
 * `copilot --version` in the shared HOME unpacks it), or undefined without the client.
 */
export async function clientEventSchema(): Promise<string | undefined> {
  if (!copilotAvailable()) return undefined;
  const pkg = join(SHARED_HOME, '.cache', 'copilot', 'pkg');
  const find = (): string | undefined => {
    for (const platform of existsSync(pkg) ? readdirSync(pkg) : []) {
      const path = join(pkg, platform, copilotPackageVersion(), 'copilot-sdk', 'generated', 'session-events.d.ts');
      if (existsSync(path)) return path;
    }
    return undefined;
  };
  if (!find()) await runCopilot({ copilotHome: join(SHARED_HOME, 'unused-copilot-home'), modelUrl: 'http://127.0.0.1:9/v1', cwd: tmpdir(), args: ['--version'], timeoutMs: 120_000 });
  const found = find();
  return found ? readFileSync(found, 'utf8') : undefined;
}
