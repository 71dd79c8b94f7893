import { type DataPortabilityScope } from '@hearth/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatTime } from '../api';
import { describeError, owner } from '../session';
import { ErrorLine, type Notice, NoticeLine } from '../notices';

/** The server's Data Portability scopes, each readable raw by granted builders only once the owner says so. */
export function DataPortabilityPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<Notice | null>(null);
  const scopes = useQuery({
    queryKey: ['dp-scopes', serverId],
    queryFn: () => owner().dataPortabilityScopes(serverId),
  });
  const setReadable = useMutation({
    mutationFn: ({ scope, readable }: { scope: string; readable: boolean }) =>
      owner().setScopeReadable(serverId, scope, readable),
    onMutate: () => setMessage(null),
    onSuccess: ({ scope, readable }) => {
      setMessage({
        kind: 'ok',
        text: readable
          ? `${scope} is now readable: builders holding a grant for it may read it raw.`
          : `${scope} is no longer readable: builders are told which operations to run on it.`,
      });
      void queryClient.invalidateQueries({ queryKey: ['dp-scopes', serverId] });
    },
    onError: (err, { scope }) =>
      setMessage({ kind: 'error', text: `${scope} was not changed: ${describeError(err)}` }),
  });
  const busy = (s: DataPortabilityScope): boolean =>
    setReadable.isPending && setReadable.variables.scope === s.scope;

  return (
    <>
      <h1>Data portability</h1>
      <p>
        Readable: builders holding a grant for the scope may read its documents raw. Not readable (the
        default): they are told which Hearth operations to run on it instead. A change takes effect at once.
      </p>
      <NoticeLine notice={message} />
      <ErrorLine error={scopes.error} />
      {scopes.isPending && <p role="status">Loading the scopes…</p>}
      {scopes.data?.length === 0 && (
        <p>
          No scopes yet. A scope appears when data is ingested through the Data Portability API,{' '}
          <code className="wrap">POST /dp/{serverId}/v1/data/&lt;scope&gt;</code>.
        </p>
      )}
      {scopes.data && scopes.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">Versions</th>
                <th scope="col">Latest collected</th>
                <th scope="col">Readable</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {scopes.data.map((s) => (
                <tr key={s.scope} data-scope={s.scope} data-readable={String(s.readable)}>
                  <td>
                    <code>{s.scope}</code>
                  </td>
                  <td>{s.versions}</td>
                  <td>{formatTime(s.latestCollectedAt)}</td>
                  <td>
                    <span className={s.readable ? 'status readable' : 'status'}>
                      {s.readable ? 'Yes' : 'No'}
                    </span>
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() => setReadable.mutate({ scope: s.scope, readable: !s.readable })}
                      disabled={busy(s)}
                    >
                      {s.readable ? 'Make not readable' : 'Make readable'}
                      <span className="visually-hidden"> {s.scope}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
