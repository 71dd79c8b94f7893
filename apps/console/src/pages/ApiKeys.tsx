import { type ApiKey } from '@hearth/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { isAddress } from 'viem';
import { shortAddress, useCatalog } from '../api';
import { describeError, owner } from '../session';
import { ErrorLine, type Notice, NoticeLine } from '../notices';

function Secret({ value, label }: { value: string; label: string }): React.JSX.Element {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret" role="status">
      <p>
        <strong>{label}</strong> It is shown only now: copy it into your app’s configuration.
      </p>
      <code className="wrap" data-testid="api-key-secret">
        {value}
      </code>{' '}
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

const lines = (s: string): string[] =>
  s
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean);

export function ApiKeysPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const keys = useQuery({
    queryKey: ['keys', serverId],
    queryFn: () => owner().listApiKeys(serverId, { limit: 200 }),
  });
  const [name, setName] = useState('');
  const [app, setApp] = useState('');
  const [operations, setOperations] = useState<string[]>([]);
  const [origins, setOrigins] = useState('');
  const [rate, setRate] = useState('');
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [message, setMessage] = useState<Notice | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const refresh = (): void => void queryClient.invalidateQueries({ queryKey: ['keys', serverId] });

  const create = useMutation({
    mutationFn: async () => {
      if (!isAddress(app)) throw new Error('The app address must be a 0x address of 40 hex digits.');
      return owner().createApiKey(serverId, {
        name,
        appAddress: app,
        ...(operations.length ? { operations } : {}),
        ...(lines(origins).length ? { origins: lines(origins) } : {}),
        ...(rate ? { ratePerMinute: Number(rate) } : {}),
      });
    },
    onMutate: () => {
      setMessage(null);
      setSecret(null);
    },
    onSuccess: (key) => {
      setSecret({ label: `The secret of “${name}”.`, value: key.key });
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: `No key was created: ${describeError(err)}` }),
  });
  const rotate = useMutation({
    mutationFn: (key: ApiKey) => owner().rotateApiKey(serverId, key.id),
    onMutate: () => setSecret(null),
    // The rotate response carries only the id, the secret and the grace period's end: the name is the row's.
    onSuccess: (rotated, key) => {
      setSecret({
        label: `The new secret of “${key.name}”; the previous one keeps working until ${rotated.previousKeyExpiresAt ?? 'the grace period ends'}.`,
        value: rotated.key,
      });
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: describeError(err) }),
  });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => owner().revokeApiKey(serverId, key.id),
    onSuccess: (_v, key) => {
      setConfirming(null);
      // A secret still on screen would say it works (or keeps working for a grace period): no longer true.
      setSecret(null);
      setMessage({ kind: 'ok', text: `Key “${key.name}” is revoked.` });
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: describeError(err) }),
  });

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <>
      <h1>API keys</h1>
      <p>
        An app calls Hearth with a key of this server. It can run only what a grant allows, within the key’s
        limits.
      </p>
      <form onSubmit={submit} className="panel" aria-labelledby="key-form-title">
        <h2 id="key-form-title">New key</h2>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </label>
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
          <legend>Operations allowlist (none checked = any granted operation)</legend>
          {catalog.data?.map((op) => (
            <label key={op.name}>
              <input
                type="checkbox"
                checked={operations.includes(op.name)}
                onChange={() =>
                  setOperations((o) =>
                    o.includes(op.name) ? o.filter((v) => v !== op.name) : [...o, op.name],
                  )
                }
              />{' '}
              {op.name}
            </label>
          ))}
        </fieldset>
        <label>
          Origins allowlist (one per line, e.g. https://app.example.com; empty = any)
          <textarea value={origins} onChange={(e) => setOrigins(e.target.value)} rows={2} />
        </label>
        <label>
          Requests per minute (empty = the default)
          <input type="number" min={1} value={rate} onChange={(e) => setRate(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {secret && <Secret label={secret.label} value={secret.value} />}
      <NoticeLine notice={message} />
      <h2>Keys of this server</h2>
      <ErrorLine error={keys.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">App</th>
              <th scope="col">Operations</th>
              <th scope="col">Origins</th>
              <th scope="col">Rate / min</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.items.length === 0 && (
              <tr>
                <td colSpan={6}>No keys yet.</td>
              </tr>
            )}
            {keys.data?.items.map((k) => (
              <tr key={k.id} data-key={k.id} data-revoked={k.revokedAt ? 'true' : 'false'}>
                <td>
                  {k.name}
                  <br />
                  <code className="muted">{k.id}</code>
                </td>
                <td>
                  <code title={k.appAddress}>{shortAddress(k.appAddress)}</code>
                </td>
                <td>{k.operations?.length ? k.operations.join(', ') : 'Any'}</td>
                <td>{k.origins?.length ? k.origins.join(', ') : 'Any'}</td>
                <td>{k.ratePerMinute ?? '—'}</td>
                <td className="actions">
                  {k.revokedAt ? (
                    <span className="status revoked">revoked</span>
                  ) : (
                    <>
                      <button type="button" onClick={() => rotate.mutate(k)}>
                        Rotate<span className="visually-hidden"> {k.name}</span>
                      </button>
                      {confirming === k.id ? (
                        <button type="button" className="danger" onClick={() => revoke.mutate(k)}>
                          Confirm revoke<span className="visually-hidden"> {k.name}</span>
                        </button>
                      ) : (
                        <button type="button" onClick={() => setConfirming(k.id)}>
                          Revoke<span className="visually-hidden"> {k.name}</span>
                        </button>
                      )}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
