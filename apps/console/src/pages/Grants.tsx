import { type Grant } from '@hearth/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { isAddress } from 'viem';
import { disclosure, formatTime, shortAddress, useCatalog } from '../api';
import { describeError, owner, signingWallet } from '../session';
import { Pager, useCursorPages } from '../pager';
import { ErrorLine, type Notice, NoticeLine } from '../notices';

export function GrantsPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const files = useQuery({
    queryKey: ['files', serverId, 'all-for-grants'],
    queryFn: () => owner().listFiles(serverId, { limit: 200 }),
  });
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const grants = useQuery({
    queryKey: ['grants', serverId, cursor],
    queryFn: () => owner().listGrants(serverId, { limit: 50, cursor }),
  });
  const [app, setApp] = useState('');
  const [operations, setOperations] = useState<string[]>([]);
  const [allFiles, setAllFiles] = useState(false);
  const [fileIds, setFileIds] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [message, setMessage] = useState<Notice | null>(null);

  const toggle = (list: string[], value: string): string[] =>
    list.includes(value) ? list.filter((v) => v !== value) : [...list, value];

  const create = useMutation({
    mutationFn: async () => {
      if (!isAddress(app)) throw new Error('The app address must be a 0x address of 40 hex digits.');
      if (operations.length === 0) throw new Error('Choose at least one operation.');
      if (!allFiles && fileIds.length === 0) throw new Error('Choose files, or all files.');
      const wallet = await signingWallet();
      return owner().grant(
        serverId,
        {
          appAddress: app,
          operations,
          ...(allFiles ? { allFiles: true } : { fileIds }),
          ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}),
        },
        wallet,
      );
    },
    onMutate: () => setMessage(null),
    onSuccess: ({ grantId }) => {
      setMessage({ kind: 'ok', text: `Grant ${grantId} is on-chain.` });
      void queryClient.invalidateQueries({ queryKey: ['grants', serverId] });
    },
    onError: (err) => setMessage({ kind: 'error', text: `No grant was made: ${describeError(err)}` }),
  });

  const revoke = useMutation({
    mutationFn: async (grant: Grant) => owner().revokeGrant(serverId, grant.grantId, await signingWallet()),
    onMutate: () => setMessage(null),
    onSuccess: ({ grantId }) => {
      setMessage({ kind: 'ok', text: `Grant ${grantId} is revoked from the next block on.` });
      void queryClient.invalidateQueries({ queryKey: ['grants', serverId] });
    },
    onError: (err) => setMessage({ kind: 'error', text: `The grant was not revoked: ${describeError(err)}` }),
  });

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <>
      <h1>Grants</h1>
      <p>
        A grant lets one app run the operations you choose on the files you choose, until it expires or you
        revoke it. You sign it in your wallet; Hearth relays it on-chain and pays the gas.
      </p>
      <form onSubmit={submit} className="panel" aria-labelledby="grant-form-title">
        <h2 id="grant-form-title">New grant</h2>
        <label>
          App address
          <input
            value={app}
            onChange={(e) => setApp(e.target.value.trim())}
            placeholder="0x…"
            spellCheck={false}
            autoComplete="off"
            required
          />
        </label>
        <fieldset>
          <legend>Operations</legend>
          {catalog.isPending && <p role="status">Loading the catalog…</p>}
          {catalog.data?.map((op) => (
            <label key={op.name} className="op">
              <input
                type="checkbox"
                checked={operations.includes(op.name)}
                onChange={() => setOperations((o) => toggle(o, op.name))}
              />{' '}
              <strong>{op.name}</strong> — {op.description} <em>{disclosure(op)}</em>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Files</legend>
          <label>
            <input type="checkbox" checked={allFiles} onChange={(e) => setAllFiles(e.target.checked)} /> All
            files, including those uploaded later
          </label>
          {!allFiles &&
            files.data?.items.map((f) => (
              <label key={f.id}>
                <input
                  type="checkbox"
                  checked={fileIds.includes(f.id)}
                  onChange={() => setFileIds((ids) => toggle(ids, f.id))}
                />{' '}
                {f.name} <code className="muted">{f.id}</code>
              </label>
            ))}
        </fieldset>
        <label>
          Expires (optional; none = until revoked)
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Waiting for your wallet and the chain…' : 'Sign and grant'}
        </button>
      </form>
      <NoticeLine notice={message} />
      <h2>Grants of this server</h2>
      <ErrorLine error={grants.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Grant</th>
              <th scope="col">App</th>
              <th scope="col">Operations</th>
              <th scope="col">Files</th>
              <th scope="col">Expires</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {grants.data?.items.length === 0 && (
              <tr>
                <td colSpan={7}>No grants yet.</td>
              </tr>
            )}
            {grants.data?.items.map((g) => (
              <tr key={g.grantId} data-grant={g.grantId}>
                <td>{g.grantId}</td>
                <td>
                  <code title={g.grantee}>{shortAddress(g.grantee)}</code>
                </td>
                <td>{g.operations.join(', ')}</td>
                <td>{g.allFiles ? 'All files' : `${g.fileIds.length} file(s)`}</td>
                <td>{g.expiresAt ? formatTime(g.expiresAt) : 'Never'}</td>
                <td>
                  <span className={`status ${g.status}`}>{g.status}</span>
                </td>
                <td>
                  {g.status === 'active' && (
                    <button type="button" onClick={() => revoke.mutate(g)} disabled={revoke.isPending}>
                      Revoke<span className="visually-hidden"> grant {g.grantId}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager pages={pages} nextCursor={grants.data?.nextCursor} />
    </>
  );
}
