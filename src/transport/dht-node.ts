import HyperDHT from 'hyperdht';

/**
 * A DHT for a private network: one bootstrap node on the given port, which needs no other node,
 * plus a few more nodes beside it on the next ports. The extra nodes matter: a peer learns
 * whether it is reachable (not firewalled) by asking several nodes to ping it back, and with
 * a lone node every peer stays "firewalled" and two peers on a plain LAN never connect (we saw
 * exactly that in the namespace tests). Peers point at the first node with --bootstrap.
 */
export interface RunningDhtNode {
  readonly host: string;
  readonly port: number;
  readonly nodes: number;
  close(): Promise<void>;
}

export async function startDhtNode(options: { port: number; host: string; nodes?: number }): Promise<RunningDhtNode> {
  const count = Math.max(1, options.nodes ?? 3);
  // host is both the address peers use and the one we bind: never every interface by surprise.
  const first = HyperDHT.bootstrapper(options.port, options.host, { host: options.host });
  const nodes = [first];
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.destroy()));
  };
  try {
    await first.ready();
    for (let i = 1; i < count; i++) {
      const node = new HyperDHT({
        bootstrap: [{ host: options.host, port: options.port }],
        host: options.host,
        port: options.port + i,
        ephemeral: false,
        firewalled: false,
      });
      nodes.push(node);
      await node.fullyBootstrapped();
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { host: options.host, port: first.address().port, nodes: count, close };
}
