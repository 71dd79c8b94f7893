import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useServer } from '../api';
import { saveBlob } from '../files';
import { navigate } from '../router';
import { describeError, owner } from '../session';

export function SettingsPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const server = useServer(serverId);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [exportState, setExportState] = useState<string | null>(null);

  const exportAll = useMutation({
    mutationFn: async () => {
      setExportState('Preparing the archive…');
      const res = await owner().http.request('GET', `/v1/servers/${encodeURIComponent(serverId)}/export`);
      return res.blob();
    },
    onSuccess: (blob) => {
      saveBlob(blob, `hearth-${serverId}.tar`);
      setExportState('The archive is downloading.');
    },
    onError: (err) => setExportState(`Export failed: ${describeError(err)}`),
  });

  const remove = useMutation({
    mutationFn: () => owner().deleteServer(serverId),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ['server', serverId] });
      void queryClient.invalidateQueries({ queryKey: ['servers'] });
      navigate('/servers?deleted=1', { replace: true });
    },
    onError: (err) => setError(describeError(err)),
  });

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setError(null);
    if (typed !== serverId) {
      setError(`Type the server id exactly (${serverId}) to delete it.`);
      return;
    }
    remove.mutate();
  };

  return (
    <>
      <h1>Export and delete</h1>
      <section className="panel" aria-labelledby="export-title">
        <h2 id="export-title">Export everything</h2>
        <p>
          One archive (tar) with every file (server-side files decrypted for you, client-side files as their
          envelopes, which only your owner key opens), your grants, the access log with its receipts, and a
          manifest.
        </p>
        <button type="button" onClick={() => exportAll.mutate()} disabled={exportAll.isPending}>
          Download the archive
        </button>
        {exportState && <p role="status">{exportState}</p>}
      </section>
      <section className="panel danger-zone" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete this server</h2>
        <p>
          Deleting destroys the server’s key first (crypto-shredding): every copy of its data, backups
          included, becomes unreadable ciphertext at once, for Hearth too. Then its rows are removed. Grants
          on-chain stay on-chain, but there is nothing left to run them on. This cannot be undone: export
          first.
        </p>
        <form onSubmit={submit}>
          <label>
            Type the server id <code>{serverId}</code> to confirm
            <input
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              aria-describedby="delete-title"
            />
          </label>
          <button type="submit" className="danger" disabled={remove.isPending || !server.data}>
            Delete {server.data?.kind === 'personal' ? 'my personal server' : 'this server'} forever
          </button>
        </form>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </section>
    </>
  );
}
