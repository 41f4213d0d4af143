/** Small byte helpers shared by the key exchange, the key schedule and the sealed stream. */

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Unsigned LEB128, as CPace's prepend_len uses it. */
export function leb128(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
  return Uint8Array.from(out);
}

export function prependLength(data: Uint8Array): Uint8Array {
  return concatBytes([leb128(data.length), data]);
}

/** Length-value concatenation: no two different field lists can give the same bytes. */
export function lvCat(...fields: readonly Uint8Array[]): Uint8Array {
  return concatBytes(fields.map(prependLength));
}
