import type { IncomingMessage } from 'node:http';

/**
 * Per-server host names: the rewrite of a request to `<serverId><suffix>` into that server's `/dp/<serverId>/…`;
 * any other host is left as it is. The original request-target stays the request's `originalUrl` (what a
 * Web3Signed `uri` is compared with).
 */
export function dpHostRewrite(suffix: string): (req: IncomingMessage) => string {
  const host = new RegExp(`^(srv_[0-9a-f]{32})${suffix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i');
  return (req) => {
    const url = req.url ?? '/';
    const match = host.exec(req.headers.host ?? '');
    return match ? `/dp/${match[1].toLowerCase()}${url === '/' ? '' : url}` : url;
  };
}
