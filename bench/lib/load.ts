import autocannon from 'autocannon';

/** Requests per second of `duration` seconds of GETs at `connections`; any failed request fails the bench. */
export async function requestRate(
  target: { name: string; url: string; headers?: Record<string, string> },
  connections: number,
  duration: number,
): Promise<number> {
  const result = await autocannon({
    url: target.url,
    headers: target.headers,
    connections,
    duration,
    pipelining: 1,
  });
  const wrong = result.non2xx + result.errors + result.timeouts;
  if (wrong > 0) throw new Error(`${target.name}: ${wrong} of ${result.requests.total} requests failed`);
  return result.requests.total / duration;
}

export const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
