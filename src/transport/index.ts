export * from './bootstrap.js';
export * from './connection.js';
export * from './framing.js';
export * from './pairing.js';
export * from './secure-channel.js';
export * from './swarm.js';
export * from './rendezvous.js';
