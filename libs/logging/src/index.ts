import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths that must never reach a log line even if someone logs a whole object by mistake.
 * Data, keys, tokens and signatures are never logged on purpose either.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.signature',
  '*.token',
  '*.key',
  '*.privateKey',
  '*.plaintext',
  '*.password',
];

export function createLogger(opts: { level: string; name: string }, extra: LoggerOptions = {}): Logger {
  return pino({
    level: opts.level,
    name: opts.name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...extra,
  });
}

export type { Logger };
export * from './shutdown';
export * from './nest-logger';
