/**
 * @hearth/permissions: the permission contracts' ABIs, the worker's execution-time checker, and the
 * relayer that puts owner-signed grants, revocations and whitelist changes on-chain.
 */
export { PermissionChecker } from './checker';
export type {
  DenyCode,
  PermissionCheckRequest,
  PermissionCheckerOptions,
  PermissionDecision,
  ServerPolicy,
} from './checker';
export { GrantRelayer } from './relayer';
export type { BuildGrantInput, GrantRecord, GrantRelayerOptions, RelayerHealth, SendLock } from './relayer';
export { PermissionsError, isTransportError } from './errors';
export type { PermissionsErrorCode } from './errors';
export { serverPolicy, type ServerPolicyFields } from './server-policy';
export {
  datasetIdToUint,
  fileIdToUint,
  isDatasetId,
  isFileId,
  scopeIdToUint,
  uintToFileId,
  uintToScopeId,
} from './file-ids';
export { isVanaDataPermissionContract } from './vana';
export { createHearthPublicClient, hearthChain, rpcFetch } from './client';
export { DEV_RELAYER_PRIVATE_KEY, DEV_ACCOUNT_PRIVATE_KEYS } from './dev-keys';
export * from './typed-data';
export * as DataPermissionsContract from './generated/DataPermissions';
export * as WhitelistContract from './generated/Whitelist';
export * as VanaDataPermissionContract from './generated/IVanaDataPermission';
export * as DataRegistryContract from './generated/DataRegistry';
export * as DataPortabilityGranteesContract from './generated/DataPortabilityGrantees';
export * as DataPortabilityServersContract from './generated/DataPortabilityServers';
export * as DataPortabilityPermissionsContract from './generated/DataPortabilityPermissions';
export * from './web3-signed';
export * from './dp-registry';
