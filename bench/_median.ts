/**
 * The median the benchmarks report: of an odd count the middle value, of
 * an even count the mean of the two middle ones.
 *
 * @module
 */

/**
 * The median of `values` (not changed).
 *
 * @param values At least one number.
 * @returns Their median.
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
