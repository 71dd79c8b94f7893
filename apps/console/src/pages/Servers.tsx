import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, navigate, useLocation } from '../router';
import { describeError, owner } from '../session';

export function ServersPage(): React.JSX.Element {
  const servers = useQuery({ queryKey: ['servers'], queryFn: () => owner().listServers({ limit: 200 }) });
  const { search } = useLocation();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [k, setK] = useState('5');
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => owner().createCollective({ name, k: Number(k) }),
    onMutate: () => setError(null),
    onSuccess: (server) => {
      void queryClient.invalidateQueries({ queryKey: ['servers'] });
      navigate(`/servers/${server.id}/members`);
    },
    onError: (err) => setError(`No collective was created: ${describeError(err)}`),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
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
      <form onSubmit={submit} className="panel" aria-labelledby="collective-form-title">
        <h2 id="collective-form-title">New data collective</h2>
        <p>
          A shared server: members contribute files, apps you whitelist get aggregates over at least k
          contributors.
        </p>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </label>
        <label>
          k (distinct contributors a result needs, 2–1000)
          <input type="number" min={2} max={1000} value={k} onChange={(e) => setK(e.target.value)} required />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Deploying its contract…' : 'Create collective'}
        </button>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
