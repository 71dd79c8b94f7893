import { randomBytes } from 'node:crypto';

/**
 * Differential privacy for aggregate outputs: the Laplace mechanism over every count an aggregate releases.
 *
 * An aggregate's output is a vector of counts. Adding or removing one contribution changes each count by at most
 * 1 (a contributor count by one member, a document count by one document), so the vector's L1 sensitivity is at
 * most the number of counts `n`. Noise Laplace(n / ε) on each count therefore makes the whole release ε-DP
 * (sequential composition of n counts at ε/n each). Rounding and clamping at 0 afterwards are post-processing
 * and cost no privacy. Randomness comes from node:crypto (never Math.random: its state can be recovered).
 */

/** Keys whose numbers are configuration, not data: released as they are. */
const NOT_DATA = new Set(['k', 'epsilon']);

/** A uniform double in the open interval (0, 1), from 53 bits of the OS CSPRNG. */
export function uniformOpen(): number {
  const n = Number(randomBytes(8).readBigUInt64BE() >> 11n); // 53 bits: all a double's mantissa holds
  return (n + 0.5) / 2 ** 53;
}

/** One draw from Laplace(0, scale), by inverse CDF. */
export function laplaceNoise(scale: number): number {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError('scale must be a positive number');
  const u = uniformOpen() - 0.5; // (-0.5, 0.5), never ±0.5
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/** How many counts `privatize` will noise in this output. */
export function countReleasedNumbers(value: unknown, key?: string): number {
  if (typeof value === 'number') return key !== undefined && NOT_DATA.has(key) ? 0 : 1;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + countReleasedNumbers(v), 0);
  if (value && typeof value === 'object') {
    return Object.entries(value).reduce<number>((n, [k, v]) => n + countReleasedNumbers(v, k), 0);
  }
  return 0;
}

export interface PrivatizedOutput {
  output: unknown;
  /** ε this release spent (what the receipt states). */
  epsilon: number;
  /** Laplace scale applied to each count. */
  scale: number;
  counts: number;
}

/**
 * The output with Laplace(n/ε) noise on each of its n counts, rounded to integers and clamped at 0, and a
 * `privacy` entry saying so. An output with no counts is returned as is (and spends nothing).
 */
export function privatize(output: unknown, epsilon: number): PrivatizedOutput {
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError('epsilon must be a positive number');
  const counts = countReleasedNumbers(output);
  if (counts === 0) return { output, epsilon: 0, scale: 0, counts };
  const scale = counts / epsilon;
  const noised = noiseAll(output, scale);
  const withNote =
    noised && typeof noised === 'object' && !Array.isArray(noised)
      ? { ...(noised as Record<string, unknown>), privacy: { mechanism: 'laplace', epsilon, scale } }
      : noised;
  return { output: withNote, epsilon, scale, counts };
}

function noiseAll(value: unknown, scale: number, key?: string): unknown {
  if (typeof value === 'number') {
    if (key !== undefined && NOT_DATA.has(key)) return value;
    return Math.max(0, Math.round(value + laplaceNoise(scale)));
  }
  if (Array.isArray(value)) return value.map((v) => noiseAll(v, scale));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, noiseAll(v, scale, k)]));
  }
  return value;
}
