import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Where a webhook may point: `https` unless `allowHttp`; loopback only with `allowLoopback` (tests, a laptop). */
export interface WebhookUrlPolicy {
  allowHttp: boolean;
  allowLoopback: boolean;
}

/** Why a URL is refused; the code the API answers with (field `url`). */
export type WebhookUrlProblem =
  | { code: 'invalid_url'; message: string }
  | { code: 'https_required'; message: string }
  | { code: 'private_address'; message: string }
  | { code: 'unresolvable_host'; message: string };

const MAX_URL_LENGTH = 2048;
/** A name that does not resolve in this long is refused at creation (a request never hangs on DNS). */
const CHECK_LOOKUP_TIMEOUT_MS = 5000;

/** Private, shared, link-local, unique-local, multicast, reserved and unspecified ranges: never a receiver. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d` or `::ffff:xxxx:xxxx`) carries, if any. */
function mappedIPv4(address: string): string | null {
  const m = /^(?:0*:)*:?ffff:(.+)$/i.exec(address);
  if (!m) return null;
  const tail = m[1];
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return null;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True when a receiver must not be at `address` (an IP literal) under `policy`. */
export function isBlockedAddress(address: string, policy: Pick<WebhookUrlPolicy, 'allowLoopback'>): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = isIP(bare) === 6 ? mappedIPv4(bare) : null;
  const ip = v4 ?? bare;
  const family = isIP(ip) === 4 ? 'ipv4' : isIP(ip) === 6 ? 'ipv6' : null;
  if (!family) return true;
  if (loopback.check(ip, family)) return !policy.allowLoopback;
  return blocked.check(ip, family);
}

function lookupAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });
}

/**
 * Checks a webhook URL: parseable, `https` (unless allowed), no credentials in it, and a host whose every
 * address is public. Null when it may be used. The same address check runs again at delivery (guardedLookup),
 * so a name that later resolves elsewhere (DNS rebinding) is refused then.
 */
export async function checkWebhookUrl(
  raw: string,
  policy: WebhookUrlPolicy,
): Promise<WebhookUrlProblem | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'invalid_url', message: 'must be an absolute URL' };
  }
  if (raw.length > MAX_URL_LENGTH)
    return { code: 'invalid_url', message: `at most ${MAX_URL_LENGTH} characters` };
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:'))
    return {
      code: 'https_required',
      message: policy.allowHttp ? 'must be an http(s) URL' : 'must be an https URL',
    };
  if (url.username || url.password)
    return { code: 'invalid_url', message: 'must not carry credentials; the signature authenticates Hearth' };
  if (url.hash) return { code: 'invalid_url', message: 'must not have a fragment' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    return isBlockedAddress(host, policy)
      ? { code: 'private_address', message: 'must not be a private, loopback or link-local address' }
      : null;
  }
  let addresses: LookupAddress[];
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      lookupAll(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('lookup timed out')), CHECK_LOOKUP_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return { code: 'unresolvable_host', message: 'the host does not resolve' };
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0) return { code: 'unresolvable_host', message: 'the host does not resolve' };
  if (addresses.some((a) => isBlockedAddress(a.address, policy)))
    return {
      code: 'private_address',
      message: 'the host resolves to a private, loopback or link-local address',
    };
  return null;
}

/** An error a guarded lookup fails with: the name resolved to an address a receiver may not have. */
export class BlockedAddressError extends Error {
  readonly code = 'EADDRBLOCKED';
  constructor(hostname: string) {
    super(`${hostname} resolves to an address webhooks may not reach`);
    this.name = 'BlockedAddressError';
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for node:http(s) requests that resolves the name once and refuses it unless every address is
 * allowed: the connection goes to the address that was checked, so DNS rebinding between check and connect
 * cannot send it elsewhere.
 */
export function guardedLookup(policy: Pick<WebhookUrlPolicy, 'allowLoopback'>) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    lookupAll(hostname).then(
      (addresses) => {
        if (addresses.length === 0 || addresses.some((a) => isBlockedAddress(a.address, policy))) {
          callback(new BlockedAddressError(hostname), '', 0);
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
