import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { codePassword, parseCode } from '../../src/code/index.js';
import {
  channelIdentifier,
  concatBytes,
  confirmationTag,
  deriveSessionKeys,
  finishCpace,
  loadSodium,
  Opener,
  RECEIVER_LABEL,
  Sealer,
  SENDER_LABEL,
  startCpace,
  topicForNameplate,
  utf8,
} from '../../src/crypto/index.js';
import { BeamSwarm, FramedConnection, FrameType, parseBootstrapList } from '../../src/transport/index.js';
import { MessageKind } from '../../src/bundle/messages.js';
import { MANIFEST_FORMAT } from '../../src/bundle/manifest.js';

/**
 * A sender that runs the pairing honestly (its own copy of the protocol, so it controls every
 * byte) and then misbehaves as the scenario says. Run as a process by test/hostile.test.ts.
 */
const [scenario, bootstrap, codeText] = process.argv.slice(2) as [string, string, string];
const sodium = await loadSodium();
const code = parseCode(codeText);
const swarm = await BeamSwarm.open({ bootstrap: parseBootstrapList(bootstrap) });

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const content = Buffer.from('{"type":"session.start","data":{}}\n');
const file = (path: string, bytes = content, extra: object = {}): object => ({ path, size: bytes.length, mode: 0o600, sha256: sha(bytes), ...extra });
/** Terminal control sequences: clear screen, set the window title, hide the cursor, a bell. */
const ESCAPES = '\u001b[2J\u001b]0;owned\u0007\u001b[?25l\u0007';
function manifest(files: object[], directories: string[] = [], totalBytes?: number): object {
  const total = files.reduce((sum: number, entry) => sum + (entry as { size: number }).size, 0);
  const loud = scenario === 'terminal-escapes';
  return {
    format: MANIFEST_FORMAT,
    sessionId: '0badbeef-0000-4000-8000-000000000000',
    ...(loud ? { sessionName: `name${ESCAPES}` } : {}),
    source: loud
      ? { hostname: `host${ESCAPES}`, platform: `linux${ESCAPES}`, cwd: `/home/x${ESCAPES}`, git: { remote: `https://github.com/a/b${ESCAPES}` } }
      : { hostname: 'hostile', platform: 'linux' },
    directories,
    files,
    totalBytes: totalBytes ?? total,
  };
}

swarm.onConnection((socket) => {
  void run(new FramedConnection(socket, 10_000), socket).catch(() => undefined);
});
await swarm.announce(topicForNameplate(code.nameplate));
process.stdout.write('ready\n');

async function run(connection: FramedConnection, binding: { publicKey: Uint8Array; remotePublicKey: Uint8Array; handshakeHash: Uint8Array }): Promise<void> {
  const channelId = channelIdentifier(code.nameplate, binding.publicKey, binding.remotePublicKey);
  const sessionId = binding.handshakeHash;
  const state = startCpace(sodium, 'responder', { password: utf8(codePassword(code)), channelId, sessionId, associatedData: SENDER_LABEL });
  await connection.send(FrameType.PakeShare, state.share);
  const peerShare = (await connection.receive(10_000)).body;
  const keys = deriveSessionKeys(sodium, finishCpace(sodium, state, peerShare, RECEIVER_LABEL));
  const confirm = (await connection.receive(10_000)).body;
  const opener = new Opener(keys.receiverToSender, confirm.subarray(32));
  const sealer = new Sealer(keys.senderToReceiver);
  await connection.send(FrameType.Confirm, concatBytes([confirmationTag(sodium, keys.confirmSender, channelId, sessionId), sealer.header]));

  const seal = (kind: MessageKind, body: Uint8Array | string, final = false): Uint8Array =>
    sealer.seal(concatBytes([Uint8Array.of(kind), typeof body === 'string' ? utf8(body) : body]), final);
  const send = (sealed: Uint8Array): Promise<void> => connection.send(FrameType.Sealed, sealed);
  const offer = async (value: object): Promise<void> => send(seal(MessageKind.Offer, JSON.stringify(value)));

  await send(seal(MessageKind.Hello, JSON.stringify({ verify: false })));
  opener.open((await connection.receive(10_000)).body); // the receiver's environment

  switch (scenario) {
    case 'dotdot':
      return offer(manifest([file('../escaped.txt')]));
    case 'absolute':
      return offer(manifest([file('/tmp/copilot-beam-absolute-escape.txt')]));
    case 'link':
      return offer(manifest([file('events.jsonl', content, { type: 'symlink', target: '/etc/passwd' })]));
    case 'device':
      return offer(manifest([file('dev-null', Buffer.alloc(0), { type: 'char-device', rdev: 259 })]));
    case 'duplicate':
      return offer(manifest([file('events.jsonl'), file('events.jsonl')]));
    case 'over-limit':
      return offer(manifest([{ path: 'events.jsonl', size: 3 * 1024 ** 3, mode: 0o600, sha256: sha(content) }]));
    case 'many-files':
      return offer(manifest(Array.from({ length: 100_000 }, (_, i) => file(`f${i}`, Buffer.alloc(0)))));
  }

  // The remaining scenarios offer a plausible manifest and misbehave in the data stream.
  const declared = scenario === 'lying-hash' ? Buffer.from('something else entirely\n') : content;
  const bomb = scenario === 'deflate-bomb';
  await offer(manifest([file('events.jsonl', declared, bomb ? { compressed: true } : {})]));
  opener.open((await connection.receive(10_000)).body); // ACCEPT
  switch (scenario) {
    case 'deflate-bomb':
      // 64 MiB of zeros deflate to about 64 KB: one small block claiming to be part of a 35-byte file.
      await send(seal(MessageKind.Data, deflateRawSync(Buffer.alloc(64 * 1024 ** 2), { level: 9 })));
      return send(seal(MessageKind.End, '', true));
    case 'lying-hash':
      await send(seal(MessageKind.Data, Buffer.alloc(declared.length, 0x41)));
      return send(seal(MessageKind.End, '', true));
    case 'lying-size':
      await send(seal(MessageKind.Data, Buffer.concat([content, content])));
      return send(seal(MessageKind.End, '', true));
    case 'truncated':
      await send(seal(MessageKind.Data, content.subarray(0, 10)));
      return connection.finish(1000);
    case 'terminal-escapes':
      await send(seal(MessageKind.Data, content));
      await send(seal(MessageKind.End, '', true));
      opener.open((await connection.receive(10_000)).body); // INSTALLED
      return connection.finish(1000);
    case 'no-final':
      await send(seal(MessageKind.Data, content));
      await send(seal(MessageKind.End, ''));
      return connection.finish(1000);
    case 'out-of-order': {
      const first = seal(MessageKind.Data, content.subarray(0, 10));
      const second = seal(MessageKind.Data, content.subarray(10));
      await send(second);
      return send(first);
    }
    case 'replay': {
      const first = seal(MessageKind.Data, content.subarray(0, 10));
      await send(first);
      return send(first);
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}
