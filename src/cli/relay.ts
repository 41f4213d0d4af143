import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import HyperDHT from 'hyperdht';
import { BeamError } from '../errors.js';
import { beamWorkDir, copilotHome } from '../session/home.js';
import { resolveBootstrap } from '../transport/bootstrap.js';
import { RELAY_ENV } from '../transport/relay-key.js';
import { startRelay } from '../transport/relay-server.js';
import type { CommandContext } from './context.js';
import { parsePort } from './options.js';

export interface RelayCommandOptions {
  readonly bootstrap?: string;
  readonly keyFile?: string;
  readonly host?: string;
  readonly port?: string;
  readonly json?: boolean;
}

/** The relay's identity is a 32-byte seed kept in a private file, so its public key survives restarts. */
async function loadOrCreateSeed(path: string): Promise<Uint8Array> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/i.test(text)) throw new BeamError('usage', `${path} does not hold a relay key (64 hex characters): remove it to make a new one`);
    return Uint8Array.from(Buffer.from(text, 'hex'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const seed = randomBytes(32);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${seed.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return seed;
}

/** `copilot-beam relay`: a blind relay for peers whose UDP cannot reach each other, until Ctrl-C. */
export async function runRelay(options: RelayCommandOptions, context: CommandContext): Promise<void> {
  const keyFile = options.keyFile ?? join(beamWorkDir(copilotHome(context.env)), 'relay.key');
  const keyPair = HyperDHT.keyPair(await loadOrCreateSeed(keyFile));
  const bootstrap = resolveBootstrap(options.bootstrap, context.env);
  const relay = await startRelay({
    keyPair,
    ...(bootstrap ? { bootstrap } : {}),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: parsePort(options.port, '--port') } : {}),
  });
  context.cleanup.add(() => relay.close());
  const key = Buffer.from(relay.publicKey).toString('hex');
  context.ui.result('listening', { publicKey: key, keyFile }, [
    `Blind relay running. Its public key (kept in ${keyFile}):`,
    '',
    `    ${key}`,
    '',
    'Peers that cannot reach each other use it with:',
    `    copilot-beam send --relay ${key}`,
    `    export ${RELAY_ENV}=${key}`,
    '',
    'It forwards only encrypted bytes: it never sees the code, the keys or the session. Ctrl-C stops it.',
  ]);
  await new Promise<never>(() => undefined);
}
