import { type AccessLogEntry } from '@hearth/sdk';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { getAddress, hashTypedData, type TypedDataDefinition, verifyTypedData } from 'viem';
import { formatTime, shortAddress, useServer } from '../api';
import { owner } from '../session';
import { Pager, useCursorPages } from '../pager';
import { ErrorLine } from '../notices';

interface Row extends AccessLogEntry {
  operationId: string | null;
  actor: string;
  apiKeyId: string | null;
  grantId: string | null;
  operation: string | null;
  fileIds: string[];
  outcome: string;
  code: string | null;
  receiptHash: string | null;
  receipt: {
    typedData?: TypedDataDefinition & { message: Record<string, unknown> };
    signature?: `0x${string}`;
  } | null;
  createdAt: string;
}

type Verdict = { state: 'none' } | { state: 'valid' } | { state: 'invalid'; reason: string };

/**
 * A receipt is good when its EIP-712 signature recovers this server's address (as GET /v1/servers/:id gives it,
 * never the receipt's own `signer`), it names this server, and its digest is the row's receiptHash.
 */
export async function verifyRow(row: Row, serverAddress: string): Promise<Verdict> {
  const receipt = row.receipt;
  if (!receipt?.typedData || !receipt.signature) return { state: 'none' };
  try {
    const ok = await verifyTypedData({
      ...receipt.typedData,
      address: getAddress(serverAddress),
      signature: receipt.signature,
    });
    if (!ok) return { state: 'invalid', reason: 'not signed by this server' };
    const named = receipt.typedData.message.server;
    if (typeof named !== 'string' || getAddress(named) !== getAddress(serverAddress))
      return { state: 'invalid', reason: 'names another server' };
    if (row.receiptHash && hashTypedData(receipt.typedData) !== row.receiptHash)
      return { state: 'invalid', reason: 'digest differs from the log' };
    return { state: 'valid' };
  } catch (err) {
    return { state: 'invalid', reason: err instanceof Error ? err.message : 'does not verify' };
  }
}

export function AccessLogPage({ serverId }: { serverId: string }): React.JSX.Element {
  const server = useServer(serverId);
  const [outcome, setOutcome] = useState<'' | 'allowed' | 'denied'>('');
  const [app, setApp] = useState('');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const log = useQuery({
    queryKey: ['log', serverId, outcome, cursor],
    queryFn: async () => {
      const page = await owner().accessLogPage(serverId, {
        limit: 50,
        cursor,
        ...(outcome ? { outcome } : {}),
      });
      return { ...page, items: page.items as Row[] };
    },
  });
  const address = server.data?.address;
  const verdicts = useQuery({
    queryKey: ['log-verdicts', serverId, address, log.data?.items.map((r) => r.id).join()],
    enabled: Boolean(address && log.data),
    queryFn: async () => {
      const out = new Map<string, Verdict>();
      for (const row of log.data?.items ?? []) out.set(row.id, await verifyRow(row, address as string));
      return out;
    },
  });
  const appFilter = app.trim().toLowerCase();
  const rows = (log.data?.items ?? []).filter((r) => !appFilter || r.actor.toLowerCase().includes(appFilter));

  return (
    <>
      <h1>Access log</h1>
      <p>
        Every time your data was decrypted, and every attempt that was refused. Each operation’s receipt is
        checked in this browser: ✓ means it is signed by this server’s key (
        <code className="wrap">{address ?? '…'}</code>).
      </p>
      <div className="filters">
        <label>
          Outcome
          <select
            value={outcome}
            onChange={(e) => {
              setOutcome(e.target.value as typeof outcome);
              pages.reset();
            }}
          >
            <option value="">All</option>
            <option value="allowed">Allowed</option>
            <option value="denied">Denied</option>
          </select>
        </label>
        <label>
          App address contains
          <input value={app} onChange={(e) => setApp(e.target.value)} placeholder="0x…" spellCheck={false} />
        </label>
      </div>
      <ErrorLine error={log.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Outcome</th>
              <th scope="col">App</th>
              <th scope="col">Operation</th>
              <th scope="col">Files</th>
              <th scope="col">Receipt</th>
            </tr>
          </thead>
          <tbody>
            {log.isPending && (
              <tr>
                <td colSpan={6}>Loading…</td>
              </tr>
            )}
            {log.data && rows.length === 0 && (
              <tr>
                <td colSpan={6}>Nothing here yet.</td>
              </tr>
            )}
            {rows.map((r) => {
              const v = verdicts.data?.get(r.id);
              return (
                <tr key={r.id} data-outcome={r.outcome} data-operation={r.operation ?? ''}>
                  <td>{formatTime(r.createdAt)}</td>
                  <td>
                    <span className={`status ${r.outcome}`}>{r.outcome}</span>
                    {r.code && (
                      <>
                        <br />
                        <code className="muted">{r.code}</code>
                      </>
                    )}
                  </td>
                  <td>
                    <code title={r.actor}>{shortAddress(r.actor)}</code>
                  </td>
                  <td>{r.operation ?? 'read'}</td>
                  <td>{r.fileIds.length}</td>
                  <td data-receipt={v?.state ?? 'checking'}>
                    {!v ? (
                      'Checking…'
                    ) : v.state === 'valid' ? (
                      <span className="valid">✓ verified</span>
                    ) : v.state === 'invalid' ? (
                      <span className="invalid">✗ {v.reason}</span>
                    ) : (
                      <span className="muted">no receipt</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager pages={pages} nextCursor={log.data?.nextCursor}>
        <button type="button" onClick={() => void log.refetch()}>
          Refresh
        </button>
      </Pager>
    </>
  );
}
