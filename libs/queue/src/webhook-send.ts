import { WebhookDeliveryCode } from '@hearth/errors';
import { guardedLookup, isBlockedAddress } from './webhook-target';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

/** What one attempt came to: ok on a 2xx; else the status (`http_status`) or why there was none. */
export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  errorCode: WebhookDeliveryCode | null;
  durationMs: number;
}

/**
 * One POST to an address outside (a webhook receiver, an app's return URL): a connection of its own (no pooling across tenants), to an address checked when it
 * is resolved (guardedLookup: DNS rebinding finds no private address), redirects never followed (a 3xx is a
 * failed attempt), the whole attempt bounded by `timeoutMs`, the response body never read.
 */
export function guardedPost(
  url: string,
  headers: OutgoingHttpHeaders,
  body: string,
  options: { timeoutMs: number; allowLoopback: boolean },
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (errorCode: WebhookDeliveryCode): SendResult => ({
    ok: false,
    statusCode: null,
    errorCode,
    durationMs: elapsed(),
  });
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // Node connects to an IP literal without a lookup: check it here.
  if (isIP(host) && isBlockedAddress(host, options))
    return Promise.resolve(failed(WebhookDeliveryCode.address_not_allowed));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      agent: false,
      lookup: guardedLookup(options),
    });
    const timer = setTimeout(() => {
      settle(failed(WebhookDeliveryCode.timeout));
      req.destroy();
    }, options.timeoutMs);
    req.on('response', (res) => {
      const statusCode = res.statusCode ?? 0;
      res.destroy();
      const ok = statusCode >= 200 && statusCode < 300;
      settle({
        ok,
        statusCode,
        errorCode: ok ? null : WebhookDeliveryCode.http_status,
        durationMs: elapsed(),
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => settle(failed(errorCodeOf(err))));
    req.end(body);
  });
}

function errorCodeOf(err: NodeJS.ErrnoException): WebhookDeliveryCode {
  if (err.code === 'EADDRBLOCKED') return WebhookDeliveryCode.address_not_allowed;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'ENODATA')
    return WebhookDeliveryCode.dns_failed;
  return WebhookDeliveryCode.connection_failed;
}
