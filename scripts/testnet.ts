import createTestnet from 'hyperdht/testnet.js';

/** Runs a DHT testnet on loopback until killed, printing its bootstrap list (for manual tries). */
const testnet = await createTestnet(Number(process.argv[2] ?? 3), { host: '127.0.0.1' });
console.log(testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(','));
const stop = (): void => void testnet.destroy().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
