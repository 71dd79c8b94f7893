import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countReleasedNumbers, laplaceNoise, privatize, uniformOpen } from './privacy';

/*
 * Statistical checks with bounds many standard deviations wide (no fixed seed: the CSPRNG has none), so they
 * fail only if the mechanism is wrong, not by chance (each bound is over 6σ: odds below one in 10^9).
 */
const N = 40_000;

describe('differential privacy: the Laplace mechanism', () => {
  it('draws uniforms strictly inside (0, 1) with mean 1/2', () => {
    let sum = 0;
    for (let i = 0; i < N; i++) {
      const u = uniformOpen();
      assert.ok(u > 0 && u < 1);
      sum += u;
    }
    // σ of the mean = sqrt(1/12)/sqrt(N) ≈ 0.0014
    assert.ok(Math.abs(sum / N - 0.5) < 0.01, `mean ${sum / N}`);
  });

  it('Laplace(b) has mean 0, mean |x| = b and P(|x| > b·ln 20) = 5 %', () => {
    for (const b of [1, 7.5]) {
      let sum = 0;
      let abs = 0;
      let tail = 0;
      for (let i = 0; i < N; i++) {
        const x = laplaceNoise(b);
        sum += x;
        abs += Math.abs(x);
        if (Math.abs(x) > b * Math.log(20)) tail++;
      }
      // σ(mean) = b·sqrt(2/N) ≈ 0.007b; σ(mean |x|) = b/sqrt(N) = 0.005b; σ(tail share) ≈ 0.0011
      assert.ok(Math.abs(sum / N) < 0.05 * b, `b=${b} mean ${sum / N}`);
      assert.ok(Math.abs(abs / N - b) < 0.04 * b, `b=${b} mean |x| ${abs / N}`);
      assert.ok(Math.abs(tail / N - 0.05) < 0.008, `b=${b} tail ${tail / N}`);
    }
  });

  it('refuses a scale or ε that is not positive', () => {
    assert.throws(() => laplaceNoise(0), RangeError);
    assert.throws(() => privatize({ documents: 3 }, 0), RangeError);
    assert.throws(() => privatize({ documents: 3 }, Number.NaN), RangeError);
  });

  it('noises every count of an aggregate (not k) at scale n/ε, as integers ≥ 0, and says so', () => {
    const output = {
      documents: { positive: 40, neutral: 30, negative: 30 },
      contributors: { positive: 20, neutral: 15, negative: 15 },
      totals: { documents: 100, contributors: 50 },
      k: 5,
    };
    assert.equal(countReleasedNumbers(output), 8);
    const seen = new Set<string>();
    let err = 0;
    const runs = 2_000;
    for (let i = 0; i < runs; i++) {
      const p = privatize(output, 2);
      assert.equal(p.epsilon, 2);
      assert.equal(p.scale, 4);
      const out = p.output as typeof output & { privacy: { mechanism: string; epsilon: number } };
      assert.equal(out.k, 5, 'configuration is not noised');
      assert.deepEqual(out.privacy, { mechanism: 'laplace', epsilon: 2, scale: 4 });
      for (const v of [...Object.values(out.documents), ...Object.values(out.totals)]) {
        assert.ok(Number.isInteger(v) && v >= 0);
      }
      err += Math.abs(out.totals.documents - 100);
      seen.add(JSON.stringify(out));
    }
    // Outputs differ across runs: 2,000 runs of 8 noised counts at scale 4 are not a handful of values.
    assert.ok(seen.size > runs * 0.9, `${seen.size} distinct outputs`);
    // Mean |error| of a count ≈ the scale (4), give or take rounding: far from 0 (no noise) and from 40.
    const meanErr = err / runs;
    assert.ok(meanErr > 3 && meanErr < 5, `mean |error| ${meanErr}`);
  });

  it('an output without counts spends nothing', () => {
    assert.deepEqual(privatize({ keywords: [] }, 1), {
      output: { keywords: [] },
      epsilon: 0,
      scale: 0,
      counts: 0,
    });
  });
});
