import sodiumModule from 'libsodium-wrappers-sumo';

/**
 * The sumo build is required: ristretto255 and SHA-512 exist only there, although the standard
 * build's type declarations list them too.
 */
export type Sodium = typeof sodiumModule;

let loaded: Promise<Sodium> | undefined;

export function loadSodium(): Promise<Sodium> {
  loaded ??= sodiumModule.ready.then(() => sodiumModule);
  return loaded;
}
