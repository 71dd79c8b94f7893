export const SERVER_TABS = [
  ['files', 'Files'],
  ['grants', 'Grants'],
  ['requests', 'Access requests'],
  ['keys', 'API keys'],
  ['log', 'Access log'],
  ['usage', 'Usage'],
  ['settings', 'Export & delete'],
] as const;
export type ServerTab = (typeof SERVER_TABS)[number][0];
