export * from './pg-errors';
export * from './account.repository';
export * from './session.repository';
export * from './server.repository';
export * from './api-key.repository';
export * from './prepared';
