import type { ReactNode } from 'react';
import { type ServerTab, tabsFor } from '../tabs';
import { useServer } from '../api';
import { Link } from '../router';
import { describeError } from '../session';

export function ServerLayout({
  serverId,
  tab,
  children,
}: {
  serverId: string;
  tab: ServerTab;
  children: ReactNode;
}): React.JSX.Element {
  const server = useServer(serverId);
  const title = server.data
    ? server.data.kind === 'personal'
      ? 'Personal server'
      : server.data.name
    : serverId;
  return (
    <>
      <div className="server-head">
        <p className="crumbs">
          <Link to="/servers">Servers</Link> › {title}
        </p>
        {server.data && (
          <p className="identity">
            Address <code className="wrap">{server.data.address}</code>
          </p>
        )}
        {server.error && (
          <p className="error" role="alert">
            {describeError(server.error)}
          </p>
        )}
      </div>
      <nav aria-label="Server sections" className="tabs">
        <ul>
          {tabsFor(server.data?.kind).map(([id, label]) => (
            <li key={id}>
              <Link to={`/servers/${serverId}/${id}`} aria-current={id === tab ? 'page' : undefined}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <section>{children}</section>
    </>
  );
}
