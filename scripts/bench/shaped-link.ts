import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Two hosts joined by one shaped link: network namespaces `cbbench-<pid>-snd` and `-rcv`, a veth
 * pair between them, and a token bucket (tc tbf) on each end's egress. Nothing is added to the
 * machine's own network. The addresses are the private LAN the namespace tests use
 * (test/helpers/netns.ts): hyperdht keeps private ranges among a peer's candidates, while it
 * drops reserved ones such as 192.0.2.0/24 or 100.64.0.0/10.
 *
 * tc counts bytes per second at layer 2 (Ethernet frames), as the interface counters read back
 * by wireBytes() do; every frame carries one segment (no GSO), so both count what a wire carries.
 */
export const SENDER_ADDRESS = '10.231.0.3';
export const RECEIVER_ADDRESS = '10.231.0.4';
const PREFIX = 24;
const DEVICE = 'eth0';

/** Why a shaped link cannot be made here, or undefined when it can. */
export function shapedLinkUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, args] of [['ip', ['-V']], ['tc', ['-V']]] as const) {
    if (spawnSync(tool, args, { stdio: 'ignore' }).status !== 0) return `${tool} is not installed (iproute2)`;
  }
  return undefined;
}

function run(command: string, args: readonly string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function reason(error: unknown): string {
  const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr || (error instanceof Error ? error.message : String(error));
}

export interface WireBytes {
  /** Bytes the sender's end put on the link (frames towards the receiver). */
  readonly senderToReceiver: number;
  readonly receiverToSender: number;
  /** Frames the sender's end put on the link: with the bytes, the mean frame size (header overhead). */
  readonly senderFrames: number;
  readonly receiverFrames: number;
}

export class ShapedLink {
  readonly sender = `cbbench-${process.pid}-snd`;
  readonly receiver = `cbbench-${process.pid}-rcv`;
  private readonly created: string[] = [];

  private constructor(readonly megabytesPerSecond: number) {}

  /**
   * Makes both namespaces and the shaped veth pair; throws with tc's or ip's own words when the
   * kernel refuses (no tbf qdisc, no namespaces), after removing whatever it made.
   */
  static create(megabytesPerSecond: number): ShapedLink {
    const link = new ShapedLink(megabytesPerSecond);
    try {
      link.build();
    } catch (error) {
      link.destroy();
      throw new Error(reason(error));
    }
    return link;
  }

  /** The command prefix that runs a command inside one of the two namespaces. */
  wrap(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  /** What each end has sent so far (tx_bytes and tx_packets of its veth, read inside its namespace). */
  wireBytes(): WireBytes {
    const sender = this.txCounters(this.sender);
    const receiver = this.txCounters(this.receiver);
    return { senderToReceiver: sender.bytes, receiverToSender: receiver.bytes, senderFrames: sender.frames, receiverFrames: receiver.frames };
  }

  /** What tc reports for each end, for the record: rate, burst and queue as the kernel took them. */
  describe(): string {
    const show = spawnSync('ip', ['netns', 'exec', this.sender, 'tc', 'qdisc', 'show', 'dev', DEVICE], { encoding: 'utf8' });
    return show.stdout.trim().replace(/\s+/g, ' ');
  }

  destroy(): void {
    for (const ns of this.created.splice(0).reverse()) spawnSync('ip', ['netns', 'delete', ns]);
  }

  private build(): void {
    for (const ns of [this.sender, this.receiver]) {
      spawnSync('ip', ['netns', 'delete', ns]); // left over from a killed run with the same pid
      run('ip', ['netns', 'add', ns]);
      this.created.push(ns);
      this.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    }
    this.exec(this.sender, 'ip', ['link', 'add', DEVICE, 'type', 'veth', 'peer', 'name', 'peer0', 'netns', this.receiver]);
    this.exec(this.receiver, 'ip', ['link', 'set', 'peer0', 'name', DEVICE]);
    for (const [ns, address] of [[this.sender, SENDER_ADDRESS], [this.receiver, RECEIVER_ADDRESS]] as const) {
      this.exec(ns, 'ip', ['addr', 'add', `${address}/${PREFIX}`, 'dev', DEVICE]);
      // One segment per frame, as on a real wire: by default the kernel hands veth TCP super-packets
      // of several segments under one header (measured: 4.3 KB per frame, 3% fewer bytes counted
      // for 20 MB over TCP than with 1514-byte frames), which flatters TCP against UDP.
      this.exec(ns, 'ip', ['link', 'set', DEVICE, 'gso_max_segs', '1']);
      this.exec(ns, 'ip', ['link', 'set', DEVICE, 'up']);
      this.exec(ns, 'tc', ['qdisc', 'add', 'dev', DEVICE, 'root', ...this.tbf()]);
    }
  }

  /**
   * A token bucket at the rate, with a 64 KiB burst (a few ticks' worth, so the rate holds over
   * milliseconds) and 50 ms of queue (1 MB at 20 MB/s), as a home router's uplink buffers.
   */
  private tbf(): string[] {
    const bitsPerSecond = this.megabytesPerSecond * 8e6;
    return ['tbf', 'rate', `${bitsPerSecond}bit`, 'burst', '64kb', 'latency', '50ms'];
  }

  private txCounters(ns: string): { bytes: number; frames: number } {
    const statistics = `/sys/class/net/${DEVICE}/statistics`;
    const result = spawnSync('ip', ['netns', 'exec', ns, 'cat', `${statistics}/tx_bytes`, `${statistics}/tx_packets`], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`cannot read ${ns}'s ${DEVICE} counters: ${result.stderr.trim()}`);
    const [bytes, frames] = result.stdout.trim().split('\n').map(Number);
    return { bytes: bytes!, frames: frames! };
  }

  private exec(ns: string, command: string, args: readonly string[]): void {
    run('ip', ['netns', 'exec', ns, command, ...args]);
  }
}
