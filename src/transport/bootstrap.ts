import { isIP } from 'node:net';
import HyperDHT from 'hyperdht';
import { BeamError } from '../errors.js';

export interface BootstrapNode {
  readonly host: string;
  readonly port: number;
}

import { BOOTSTRAP_ENV } from './bootstrap-env.js';

export { BOOTSTRAP_ENV };

/**
 * Parses `host:port[,host:port]` (IPv6 as `[::1]:port`). hyperdht's own `ip@name:port` form, used
 * by its public nodes, is accepted too: the address before `@` is the one we talk to.
 */
export function parseBootstrapList(text: string): BootstrapNode[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new BeamError('usage', 'the bootstrap list is empty: give host:port[,host:port]');
  return entries.map(parseBootstrapNode);
}

function parseBootstrapNode(entry: string): BootstrapNode {
  const withoutName = entry.includes('@') ? entry.slice(0, entry.indexOf('@')) + entry.slice(entry.lastIndexOf(':')) : entry;
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(withoutName) ?? /^([^:]+):(\d+)$/.exec(withoutName);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BeamError('usage', `bad bootstrap node "${entry}": expected host:port, like 127.0.0.1:49737`);
  }
  return { host: match[1]!, port };
}

/** --bootstrap wins over the environment, which wins over hyperdht's public nodes. */
export function resolveBootstrap(optionValue: string | undefined, env: NodeJS.ProcessEnv = process.env): BootstrapNode[] | undefined {
  const text = optionValue ?? env[BOOTSTRAP_ENV];
  if (text === undefined || text.trim() === '') return undefined;
  return parseBootstrapList(text);
}

export function publicBootstrapNodes(): BootstrapNode[] {
  return HyperDHT.BOOTSTRAP.map(parseBootstrapNode);
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export function allLoopback(nodes: readonly BootstrapNode[]): boolean {
  return nodes.length > 0 && nodes.every((node) => isLoopbackHost(node.host));
}

export function describeNodes(nodes: readonly BootstrapNode[]): string {
  return nodes.map((node) => `${node.host}:${node.port}`).join(', ');
}
