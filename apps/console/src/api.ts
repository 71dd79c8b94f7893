import { type Server } from '@hearth/sdk';
import { useQuery } from '@tanstack/react-query';
import { owner } from './session';

/** A catalog entry as GET /v1/operations/catalog gives it (the fields the console shows). */
export interface CatalogEntry {
  name: string;
  version: string;
  description: string;
  aggregate: boolean;
  engine?: string;
  model?: string;
}

/** What an operation lets an app learn, in a sentence, from its catalog entry. */
export function disclosure(entry: CatalogEntry): string {
  return entry.aggregate
    ? 'Discloses aggregate figures over at least k contributors, never one person’s data.'
    : `Discloses a result computed from the granted files (engine ${entry.engine ?? 'builtin'}); it may quote them.`;
}

export async function getJson<T>(path: string, init?: RequestInit & { method?: string }): Promise<T> {
  const res = await owner().http.request(init?.method ?? 'GET', path, init);
  return (await res.json()) as T;
}

export function jsonBody(body: unknown): RequestInit {
  return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

export function useCatalog() {
  return useQuery({
    queryKey: ['catalog'],
    queryFn: async () => (await getJson<{ items: CatalogEntry[] }>('/v1/operations/catalog')).items,
    staleTime: 5 * 60_000,
  });
}

export function useServer(serverId: string) {
  return useQuery({
    queryKey: ['server', serverId],
    queryFn: (): Promise<Server> => owner().getServer(serverId),
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function shortAddress(a: string): string {
  return a.length > 14 ? `${a.slice(0, 8)}…${a.slice(-6)}` : a;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
