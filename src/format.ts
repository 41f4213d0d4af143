/** Human sizes in decimal units, as disks and networks are sold. */
/**
 * A limit the way people set one: a whole number of decimal units as such ("4 GB" for 4GB), else
 * of binary units ("2 GiB" for the default 2GiB), else as formatBytes.
 */
export function formatLimit(bytes: number): string {
  const decimalFirst = [['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['KB', 1e3], ['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const;
  const whole = decimalFirst.find(([, size]) => bytes >= size && bytes % size === 0);
  return whole ? `${bytes / whole[1]} ${whole[0]}` : formatBytes(bytes);
}

/** A size over a limit: with more digits (or exact bytes) when it would round to the limit. */
export function formatOverLimit(bytes: number, limit: number): string {
  const rounded = formatBytes(bytes);
  return rounded === formatBytes(limit) || rounded === formatLimit(limit) ? `${bytes.toLocaleString('en-US')} bytes` : rounded;
}

/** Bytes for people, in decimal units: "3.7 MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
