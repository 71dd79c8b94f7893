import { type Member } from '@hearth/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { isAddress } from 'viem';
import { formatBytes, shortAddress, useServer } from '../api';
import { describeError, owner, signingWallet, useSession } from '../session';
import { ErrorLine, type Notice, NoticeLine } from '../notices';

interface MemberRow extends Member {
  contributions?: { files: number; bytes: number };
}

/** A collective: k, its members and roles (admins add and remove), and the apps its Whitelist contract allows. */
export function MembersPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const session = useSession();
  const server = useServer(serverId);
  const members = useQuery({
    queryKey: ['members', serverId],
    queryFn: async () => {
      const out: MemberRow[] = [];
      for await (const m of owner().members(serverId)) out.push(m);
      return out;
    },
  });
  const [address, setAddress] = useState('');
  const [role, setRole] = useState<'member' | 'admin'>('member');
  const [app, setApp] = useState('');
  const [message, setMessage] = useState<Notice | null>(null);
  const refresh = (): void => void queryClient.invalidateQueries({ queryKey: ['members', serverId] });

  const add = useMutation({
    mutationFn: async () => {
      if (!isAddress(address)) throw new Error('The member address must be a 0x address of 40 hex digits.');
      return owner().addMember(serverId, address, role);
    },
    onMutate: () => setMessage(null),
    onSuccess: (m) => {
      setMessage({ kind: 'ok', text: `${m.address} is now a ${m.role}.` });
      setAddress('');
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: `Not added: ${describeError(err)}` }),
  });
  const remove = useMutation({
    mutationFn: (m: MemberRow) => owner().removeMember(serverId, m.address),
    onSuccess: (_v, m) => {
      setMessage({ kind: 'ok', text: `${m.address} was removed; their contributions are shredded.` });
      refresh();
    },
    onError: (err) => setMessage({ kind: 'error', text: describeError(err) }),
  });
  const whitelist = useMutation({
    mutationFn: async (action: 'add' | 'remove') => {
      if (!isAddress(app)) throw new Error('The app address must be a 0x address of 40 hex digits.');
      await owner().whitelist(serverId, app, action, await signingWallet());
      return action;
    },
    onMutate: () => setMessage(null),
    onSuccess: (action) =>
      setMessage({
        kind: 'ok',
        text: action === 'add' ? `${app} may now run aggregates here.` : `${app} is no longer whitelisted.`,
      }),
    onError: (err) =>
      setMessage({ kind: 'error', text: `The whitelist was not changed: ${describeError(err)}` }),
  });

  const me = members.data?.find((m) => m.address.toLowerCase() === session?.address.toLowerCase());
  const k = (server.data as { k?: number } | undefined)?.k;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    add.mutate();
  };

  return (
    <>
      <h1>Members and apps</h1>
      <p>
        Results are released only over at least k distinct contributors
        {k !== undefined ? (
          <>
            {' '}
            (<strong>k = {k}</strong>)
          </>
        ) : (
          ' (set when the collective was created)'
        )}
        . Each member’s contributions are theirs alone: admins see how many files and bytes each contributed,
        never which.
      </p>
      {me && (
        <p className="notice">
          You are a{me.role === 'admin' ? 'n admin' : ' member'}; you contributed{' '}
          {me.contributions?.files ?? 0} file(s), {formatBytes(me.contributions?.bytes ?? 0)}. The Files tab
          lists them, the Access log the operations that touched them.
        </p>
      )}
      <NoticeLine notice={message} />
      <ErrorLine error={members.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Contributions</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {members.data?.map((m) => (
              <tr key={m.address}>
                <td>
                  <code title={m.address}>{shortAddress(m.address)}</code>
                </td>
                <td>{m.role}</td>
                <td>
                  {m.contributions
                    ? `${m.contributions.files} file(s), ${formatBytes(m.contributions.bytes)}`
                    : '—'}
                </td>
                <td>
                  <button type="button" onClick={() => remove.mutate(m)} disabled={remove.isPending}>
                    {m.address.toLowerCase() === session?.address.toLowerCase() ? 'Leave' : 'Remove'}
                    <span className="visually-hidden"> {m.address}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form onSubmit={submit} className="panel" aria-labelledby="member-form-title">
        <h2 id="member-form-title">Add a member (admins)</h2>
        <label>
          Member address
          <input
            value={address}
            onChange={(e) => setAddress(e.target.value.trim())}
            placeholder="0x…"
            required
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as 'member' | 'admin')}>
            <option value="member">Member</option>
            <option value="admin">Admin</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={add.isPending}>
          Add member
        </button>
      </form>
      <section className="panel" aria-labelledby="whitelist-title">
        <h2 id="whitelist-title">Apps allowed to run aggregates (the creator signs)</h2>
        <label>
          App address
          <input value={app} onChange={(e) => setApp(e.target.value.trim())} placeholder="0x…" />
        </label>
        <button type="button" onClick={() => whitelist.mutate('add')} disabled={whitelist.isPending}>
          Sign and whitelist
        </button>{' '}
        <button type="button" onClick={() => whitelist.mutate('remove')} disabled={whitelist.isPending}>
          Sign and remove
        </button>
      </section>
    </>
  );
}
