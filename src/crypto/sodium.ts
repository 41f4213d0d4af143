import type sodiumModule from 'libsodium-wrappers-sumo';

/**
 * The sumo build is required: ristretto255 and SHA-512 exist only there, although the standard
 * build's type declarations list them too.
 */
export type Sodium = typeof sodiumModule;

let loaded: Promise<Sodium> | undefined;

/**
 * Loaded on first use, not at import: parsing the library and compiling its WebAssembly takes
 * about 50 ms, which a command can spend joining the DHT instead.
 */
export function loadSodium(): Promise<Sodium> {
  loaded ??= import('libsodium-wrappers-sumo').then(async ({ default: sodium }) => {
    await sodium.ready;
    return sodium;
  });
  return loaded;
}
