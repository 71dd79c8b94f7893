import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { ProblemError } from '@hearth/errors';
import { guardedPost, type SendResult } from '@hearth/queue';

const NOTIFY_TIMEOUT_MS = 5000;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

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
 * once, best effort, bounded by a timeout, redirects not followed. The address is checked as the connection is
 * made: a host resolving to a private address (in production, loopback too) is never reached, whatever it
 * resolves to at another moment. Never throws: the decision stands whatever the app's server does.
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
    return Promise.resolve(returnUrl)
      .then((url) => this.post(url, body))
      .then((sent) => {
        // The URL is the app's, not tenant data; what is logged is why it failed, never a body.
        if (!sent.ok) {
          this.logger.warn(
            { requestId: body.requestId, code: sent.errorCode, statusCode: sent.statusCode },
            'return URL not reached',
          );
        }
      })
      .catch(() => this.logger.warn({ requestId: body.requestId }, 'return URL not reached'));
  }

  private post(returnUrl: string, body: { requestId: string; status: string }): Promise<SendResult> {
    // The address is checked where the connection is made (no second lookup a rebinding name could change);
    // outside production an app under development may be on this machine.
    return guardedPost(returnUrl, { 'content-type': 'application/json' }, JSON.stringify(body), {
      timeoutMs: NOTIFY_TIMEOUT_MS,
      allowLoopback: !this.production,
    });
  }
}
