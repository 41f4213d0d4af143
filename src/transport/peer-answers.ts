/**
 * hyperdht reaches a peer in two stages: its handshake travels through the DHT node that holds
 * the peer's announcement, and only after the peer answers there do the two try a direct path
 * (holepunching). These error codes mean the first stage failed: the record led to nobody. We
 * measured them on a testnet for a sender killed after announcing (its record outlives it): every
 * attempt ends with PEER_CONNECTION_FAILED, about 8 s apart, while a sender that is alive behind
 * blocked UDP answers and fails later, at holepunching.
 */
const NOBODY_ANSWERED = new Set(['PEER_CONNECTION_FAILED', 'PEER_NOT_FOUND']);

/** What the attempts to connect to each discovered peer have shown so far. */
export class PeerAnswers {
  private readonly unanswered = new Map<string, number>();
  private readonly answered = new Set<string>();

  /** `ignored`: keys that are not peers of the topic (a blind relay, reached through the same connect). */
  constructor(private readonly ignored: ReadonlySet<string> = new Set()) {}

  /** A connection attempt to this peer failed with this error. */
  failed(peer: string, error: unknown): void {
    if (this.answered.has(peer) || this.ignored.has(peer)) return;
    if (NOBODY_ANSWERED.has(errorCode(error))) {
      this.unanswered.set(peer, (this.unanswered.get(peer) ?? 0) + 1);
    } else {
      // Anything else (holepunching, a relay, a reset) means the peer, or something on its
      // behalf, answered: not a record without a process behind it.
      this.answered.add(peer);
    }
  }

  /** A connection to this peer opened. */
  opened(peer: string): void {
    if (this.ignored.has(peer)) return;
    this.answered.add(peer);
    this.unanswered.delete(peer);
  }

  /**
   * True when peers were found and none ever answered: each of them (those discovery still
   * lists, and those it dropped) failed at least `times` times with nobody answering.
   */
  onlySilentPeers(discovered: Iterable<string>, times: number): boolean {
    if (this.answered.size > 0) return false;
    const peers = new Set([...discovered, ...this.unanswered.keys()]);
    if (peers.size === 0) return false;
    for (const peer of peers) {
      if ((this.unanswered.get(peer) ?? 0) < times) return false;
    }
    return true;
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}
