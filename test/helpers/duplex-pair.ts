import { Duplex } from 'node:stream';

/** Two connected in-memory streams, standing in for a Noise connection in unit tests. */
export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (index: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        sides[1 - index]!.push(chunk);
        callback();
      },
      final(callback) {
        sides[1 - index]!.push(null);
        callback();
      },
    });
  sides.push(make(0), make(1));
  sides[0]!.on('close', () => sides[1]!.destroy());
  sides[1]!.on('close', () => sides[0]!.destroy());
  return [sides[0]!, sides[1]!];
}
