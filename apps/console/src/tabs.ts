export const SERVER_TABS = [
  ['files', 'Files'],
  ['grants', 'Grants'],
  ['requests', 'Access requests'],
  ['members', 'Members & apps'],
  ['keys', 'API keys'],
  ['log', 'Access log'],
  ['usage', 'Usage'],
  ['settings', 'Export & delete'],
] as const;
export type ServerTab = (typeof SERVER_TABS)[number][0];

/** Tabs that make sense for a server of this kind (members and the whitelist are a collective's). */
export function tabsFor(kind: string | undefined): ReadonlyArray<(typeof SERVER_TABS)[number]> {
  return SERVER_TABS.filter(([id]) => (kind === 'collective' ? id !== 'requests' : id !== 'members'));
}
