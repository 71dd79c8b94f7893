import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const NOTIFY_TIMEOUT_MS = 5000;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Addresses a gateway must never be made to POST to in production (its own network, the metadata service). */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

function isPrivate(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return PRIVATE.check(v4mapped[1], 'ipv4');
  return PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A request's return URL: `https://`, or `http://` to localhost outside production (an app under
 * development). Throws 400 naming `field`; returns the URL as parsed.
 */
export function checkReturnUrl(value: string, production: boolean, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ProblemError.validation([{ field, code: 'invalid_url', message: 'must be an absolute URL' }]);
  }
  if (url.username || url.password) {
    throw ProblemError.validation([{ field, code: 'invalid_url', message: 'must not carry credentials' }]);
  }
  const localHttp = url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname) && !production;
  if (url.protocol !== 'https:' && !localHttp) {
    throw ProblemError.validation([
      {
        field,
        code: 'not_https',
        message: production ? 'must be an https:// URL' : 'must be https:// (or http://localhost)',
      },
    ]);
  }
  return url.toString();
}

/**
 * Tells an app's return URL that its request was decided: `{requestId, status}` and nothing else (never a key),
 * once, best effort, bounded by a timeout, redirects not followed. In production a host resolving to a private
 * address is skipped. Never throws: the decision stands whatever the app's server does.
 */
@Injectable()
export class ReturnUrlNotifier {
  private readonly logger = new Logger(ReturnUrlNotifier.name);
  private readonly production: boolean;

  constructor(@Inject(HEARTH_CONFIG) config: HearthConfig) {
    this.production = config.NODE_ENV === 'production';
  }

  /** Starts the POST and returns at once; the promise it gives settles when the POST ended (tests await it). */
  notify(returnUrl: string | null, body: { requestId: string; status: string }): Promise<void> {
    if (!returnUrl) return Promise.resolve();
    return this.post(returnUrl, body).catch((err: unknown) => {
      // The URL is the app's, not tenant data; the message is the fetch error's class, never a body.
      this.logger.warn(
        { requestId: body.requestId, err: err instanceof Error ? err.name : 'error' },
        'return URL not reached',
      );
    });
  }

  private async post(returnUrl: string, body: { requestId: string; status: string }): Promise<void> {
    const url = new URL(returnUrl);
    if (this.production) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true });
      if (addresses.length === 0 || addresses.some((a) => isPrivate(a.address))) {
        throw new ProblemError(400, ErrorCode.validation_failed, 'return URL resolves to a private address');
      }
    }
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    await res.body?.cancel();
  }
}
