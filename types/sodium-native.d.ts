declare module 'sodium-native' {
  /** The parts of sodium-native (libsodium, native) that copilot-beam uses: secretstream, BLAKE2b. */
  const sodium: {
    /** BLAKE2b: fills `output` (its length is the digest size). */
    crypto_generichash(output: Uint8Array, input: Uint8Array, key?: Uint8Array): void;
    readonly crypto_secretstream_xchacha20poly1305_STATEBYTES: number;
    readonly crypto_secretstream_xchacha20poly1305_HEADERBYTES: number;
    readonly crypto_secretstream_xchacha20poly1305_KEYBYTES: number;
    readonly crypto_secretstream_xchacha20poly1305_ABYTES: number;
    readonly crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number;
    readonly crypto_secretstream_xchacha20poly1305_TAG_FINAL: number;
    crypto_secretstream_xchacha20poly1305_init_push(state: Uint8Array, header: Uint8Array, key: Uint8Array): void;
    crypto_secretstream_xchacha20poly1305_init_pull(state: Uint8Array, header: Uint8Array, key: Uint8Array): void;
    /** Writes m.length + ABYTES bytes into c; returns that count. */
    crypto_secretstream_xchacha20poly1305_push(state: Uint8Array, c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, tag: number): number;
    /** Writes c.length - ABYTES bytes into m and the tag into tag[0]; throws when c does not authenticate. */
    crypto_secretstream_xchacha20poly1305_pull(state: Uint8Array, m: Uint8Array, tag: Uint8Array, c: Uint8Array, ad: Uint8Array | null): number;
  };
  export default sodium;
}
