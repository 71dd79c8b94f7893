import { isHearthProblem, type TypedData } from '@hearth/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { getJson, jsonBody, formatTime, shortAddress } from '../api';
import { describeError, signingWallet } from '../session';
import { ErrorLine, type Notice, NoticeLine } from '../notices';

interface AccessRequest {
  requestId: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  appAddress: string;
  appName: string;
  operations: string[];
  fileIds: string[];
  allFiles: boolean;
  grantExpiresAt: string | null;
  purpose: string;
  createdAt: string;
  expiresAt: string;
}

/** The inbox of apps asking for access: approving signs a grant for exactly what was asked; denying signs nothing. */
export function RequestsPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<Notice | null>(null);
  const base = `/v1/servers/${encodeURIComponent(serverId)}/access-requests`;
  const requests = useQuery({
    queryKey: ['requests', serverId],
    queryFn: async () => {
      try {
        return await getJson<{ items: AccessRequest[] }>(`${base}?status=pending&limit=200`);
      } catch (err) {
        // A deployment without access requests answers route_not_found: an empty inbox, said plainly.
        if (isHearthProblem(err, 'route_not_found')) return null;
        throw err;
      }
    },
  });
  const refresh = (): void => void queryClient.invalidateQueries({ queryKey: ['requests', serverId] });
  const approve = useMutation({
    mutationFn: async (r: AccessRequest) => {
      const wallet = await signingWallet();
      const { typedData } = await getJson<{ typedData: TypedData }>(
        `${base}/${encodeURIComponent(r.requestId)}/approve`,
        { method: 'POST', ...jsonBody({}) },
      );
      const account = wallet.account ?? (await wallet.getAddresses())[0];
      const signature = await wallet.signTypedData({
        ...(typedData as unknown as Parameters<typeof wallet.signTypedData>[0]),
        account,
      });
      return getJson<{ grantId: string }>(`${base}/${encodeURIComponent(r.requestId)}/grant`, {
        method: 'POST',
        ...jsonBody({ typedData, signature }),
      });
    },
    onMutate: () => setMessage(null),
    onSuccess: ({ grantId }, r) => {
      setMessage({ kind: 'ok', text: `Approved ${r.appName}: grant ${grantId}.` });
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: `Not approved: ${describeError(err)}` }),
  });
  const deny = useMutation({
    mutationFn: (r: AccessRequest) =>
      getJson(`${base}/${encodeURIComponent(r.requestId)}/deny`, { method: 'POST', ...jsonBody({}) }),
    onSuccess: (_v, r) => {
      setMessage({ kind: 'ok', text: `Denied ${r.appName}.` });
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: describeError(err) }),
  });

  return (
    <>
      <h1>Access requests</h1>
      <p>Apps can ask you for access. Approving signs a grant for exactly what the app asked for.</p>
      <NoticeLine notice={message} />
      <ErrorLine error={requests.error} />
      {requests.data === null && <p>This Hearth does not take access requests yet.</p>}
      {requests.data?.items.length === 0 && <p>No pending requests.</p>}
      <ul className="cards">
        {requests.data?.items.map((r) => (
          <li key={r.requestId} className="card">
            <h2>{r.appName}</h2>
            <dl>
              <dt>App</dt>
              <dd>
                <code title={r.appAddress}>{shortAddress(r.appAddress)}</code>
              </dd>
              <dt>Purpose</dt>
              <dd>{r.purpose}</dd>
              <dt>Operations</dt>
              <dd>{r.operations.join(', ')}</dd>
              <dt>Files</dt>
              <dd>{r.allFiles ? 'All files' : r.fileIds.join(', ')}</dd>
              <dt>Grant expires</dt>
              <dd>{r.grantExpiresAt ? formatTime(r.grantExpiresAt) : 'Never'}</dd>
              <dt>Request lapses</dt>
              <dd>{formatTime(r.expiresAt)}</dd>
            </dl>
            <button
              type="button"
              className="primary"
              onClick={() => approve.mutate(r)}
              disabled={approve.isPending}
            >
              Approve<span className="visually-hidden"> {r.appName}</span>
            </button>{' '}
            <button type="button" onClick={() => deny.mutate(r)} disabled={deny.isPending}>
              Deny<span className="visually-hidden"> {r.appName}</span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
