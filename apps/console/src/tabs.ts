export const SERVER_TABS = [
  ['files', 'Files'],
  ['grants', 'Grants'],
  ['requests', 'Access requests'],
  ['members', 'Members & apps'],
  ['keys', 'API keys'],
  ['log', 'Access log'],
  ['usage', 'Usage'],
  ['portability', 'Data portability'],
  ['settings', 'Export & delete'],
] as const;
export type ServerTab = (typeof SERVER_TABS)[number][0];

/**
 * Tabs that make sense for a server of this kind: members and the whitelist are a collective's; access requests and
 * Data Portability scopes a personal server's (the gateway answers 404 for a collective).
 */
export function tabsFor(kind: string | undefined): ReadonlyArray<(typeof SERVER_TABS)[number]> {
  const personalOnly: readonly string[] = ['requests', 'portability'];
  return SERVER_TABS.filter(([id]) =>
    kind === 'collective' ? !personalOnly.includes(id) : id !== 'members',
  );
}
