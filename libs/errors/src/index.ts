export * from './codes';
export * from './operation-codes';
export * from './problem-error';
export * from './zod';
export * from './webhook-codes';
