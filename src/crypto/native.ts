import { createRequire } from 'node:module';
import type sodiumNative from 'sodium-native';

/**
 * sodium-native, through require: hyperswarm has usually loaded it already, and require then
 * returns the cached module, where an ESM import would first scan its CommonJS source for export
 * names (about 25 ms at start-up, measured).
 */
export const native: typeof sodiumNative = createRequire(import.meta.url)('sodium-native') as typeof sodiumNative;
