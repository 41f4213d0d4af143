/** Small statistics and formatting helpers shared by the benchmark runners. */
export const MB = 1e6;
export const MiB = 2 ** 20;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Milliseconds on the wall clock, comparable with other processes' epoch timestamps. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a';
}

export function mebibytes(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? 'n/a' : `${(bytes / MiB).toFixed(0)} MiB`;
}

export function rate(bytes: number, ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s` : 'n/a';
}

export function ratio(ours: number, theirs: number): number {
  return ours / theirs;
}
