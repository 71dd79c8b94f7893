export * from './codes';
export * from './problem-error';
export * from './zod';
