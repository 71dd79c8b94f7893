import { useQuery } from '@tanstack/react-query';
import { Link, useLocation } from '../router';
import { describeError, owner } from '../session';

export function ServersPage(): React.JSX.Element {
  const servers = useQuery({ queryKey: ['servers'], queryFn: () => owner().listServers({ limit: 200 }) });
  const { search } = useLocation();
  return (
    <section>
      <h1>Your servers</h1>
      {search.get('deleted') === '1' && (
        <p className="ok" role="status">
          The server was deleted: its key is destroyed, and its data with it.
        </p>
      )}
      <p>Your personal server, and the data collectives you belong to. Each has its own key and address.</p>
      {servers.isPending && <p role="status">Loading…</p>}
      {servers.error && (
        <p className="error" role="alert">
          {describeError(servers.error)}
        </p>
      )}
      <ul className="cards">
        {servers.data?.items.map((s) => (
          <li key={s.id} className="card">
            <h2>
              <Link to={`/servers/${s.id}/files`}>{s.kind === 'personal' ? 'Personal server' : s.name}</Link>
            </h2>
            <dl>
              <dt>Kind</dt>
              <dd>{s.kind === 'personal' ? 'Personal' : 'Collective'}</dd>
              <dt>Id</dt>
              <dd>
                <code>{s.id}</code>
              </dd>
              <dt>Address</dt>
              <dd>
                <code className="wrap">{s.address}</code>
              </dd>
              <dt>Public key</dt>
              <dd>
                <code className="wrap">{s.publicKey}</code>
              </dd>
            </dl>
          </li>
        ))}
      </ul>
    </section>
  );
}
