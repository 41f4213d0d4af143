import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Throw-away hosts in Linux network namespaces, joined by veth pairs to a bridge that itself
 * lives in a namespace of ours: nothing is added to the machine's own network, and the only
 * addresses used are the private ones given here. Needs root and iproute2 (iptables and tc for
 * the NAT, loss and firewall cases).
 */
export const LAN = '10.231.0';
export const PRIVATE_LAN = '10.232.0';

function run(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, args] of [['ip', ['-V']], ['iptables', ['--version']], ['tc', ['-V']]] as const) {
    if (spawnSync(tool, args, { stdio: 'ignore' }).status !== 0) return `${tool} is not installed (iproute2, iptables)`;
  }
  const probe = `cbprobe${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `"ip netns add" failed: ${added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'delete', probe]);
  return undefined;
}

export class Network {
  private readonly namespaces: string[] = [];
  private readonly bridgeNs: string;
  private links = 0;

  constructor(private readonly prefix = `cb${process.pid % 100000}`) {
    this.bridgeNs = this.addNamespace('sw');
    this.exec(this.bridgeNs, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    this.exec(this.bridgeNs, 'ip', ['link', 'set', 'br0', 'up']);
  }

  /** A host on the shared LAN at LAN.<octet>; returns its namespace name. */
  host(name: string, octet: number): string {
    const ns = this.addNamespace(name);
    this.plug(ns, 'eth0', this.bridgeNs, `${LAN}.${octet}/24`, true);
    return ns;
  }

  /**
   * A host behind a NAT router: the router sits on the LAN at LAN.<octet> and masquerades the
   * private network PRIVATE_LAN.0/24, where the host is PRIVATE_LAN.2.
   */
  natHost(name: string, octet: number): string {
    const router = this.host(`${name}-nat`, octet);
    const ns = this.addNamespace(name);
    const inside = `v${this.links++}`;
    this.exec(router, 'ip', ['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', inside, 'netns', ns]);
    this.exec(router, 'ip', ['addr', 'add', `${PRIVATE_LAN}.1/24`, 'dev', 'eth1']);
    this.exec(router, 'ip', ['link', 'set', 'eth1', 'up']);
    this.exec(ns, 'ip', ['link', 'set', inside, 'name', 'eth0']);
    this.exec(ns, 'ip', ['addr', 'add', `${PRIVATE_LAN}.2/24`, 'dev', 'eth0']);
    this.exec(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    this.exec(ns, 'ip', ['route', 'add', 'default', 'via', `${PRIVATE_LAN}.1`]);
    this.exec(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    this.exec(router, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-s', `${PRIVATE_LAN}.0/24`, '-o', 'eth0', '-j', 'MASQUERADE']);
    return ns;
  }

  /**
   * Delay and loss on a host's outgoing traffic with tc netem. Kernels built without sch_netem
   * (this project's CI machines) get the loss alone, from iptables' statistic match on both
   * directions; the returned text says which was applied.
   */
  degrade(ns: string, delayMs: number, lossPercent: number): string {
    const netem = spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${delayMs}ms`, 'loss', `${lossPercent}%`], { encoding: 'utf8' });
    if (netem.status === 0) return `tc netem: ${delayMs} ms delay, ${lossPercent}% loss`;
    const probability = String(lossPercent / 100);
    for (const chain of ['INPUT', 'OUTPUT']) {
      this.exec(ns, 'iptables', ['-A', chain, '-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP']);
    }
    return `no netem in this kernel (${netem.stderr.trim()}): ${lossPercent}% loss each way by iptables, no added delay`;
  }

  /** Drops every UDP packet between a host and one address (both directions). */
  blockUdp(ns: string, address: string): void {
    this.exec(ns, 'iptables', ['-A', 'OUTPUT', '-p', 'udp', '-d', address, '-j', 'DROP']);
    this.exec(ns, 'iptables', ['-A', 'INPUT', '-p', 'udp', '-s', address, '-j', 'DROP']);
  }

  /** The command prefix that runs a command inside a namespace. */
  wrap(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  /** Takes hosts off the network (so the next case can reuse their addresses). */
  remove(...names: readonly string[]): void {
    for (const ns of names) {
      spawnSync('ip', ['netns', 'delete', ns]);
      const at = this.namespaces.indexOf(ns);
      if (at >= 0) this.namespaces.splice(at, 1);
    }
  }

  destroy(): void {
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'delete', ns]);
  }

  private addNamespace(name: string): string {
    const ns = `${this.prefix}-${name}`;
    spawnSync('ip', ['netns', 'delete', ns]); // left over from a killed run
    run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  private plug(ns: string, device: string, bridgeNs: string, cidr: string, up: boolean): void {
    const port = `p${this.links++}`;
    this.exec(ns, 'ip', ['link', 'add', device, 'type', 'veth', 'peer', 'name', port, 'netns', bridgeNs]);
    this.exec(bridgeNs, 'ip', ['link', 'set', port, 'master', 'br0']);
    this.exec(bridgeNs, 'ip', ['link', 'set', port, 'up']);
    this.exec(ns, 'ip', ['addr', 'add', cidr, 'dev', device]);
    if (up) this.exec(ns, 'ip', ['link', 'set', device, 'up']);
  }

  private exec(ns: string, command: string, args: readonly string[]): void {
    run('ip', ['netns', 'exec', ns, command, ...args]);
  }
}
