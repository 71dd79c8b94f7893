import type { LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** What every log line written while serving a request carries (set once per request by the gateway). */
export interface RequestLogContext {
  reqId: string;
}

export const requestLogContext = new AsyncLocalStorage<RequestLogContext>();

/** A pino `mixin`: the current request's id on every line, without a child logger per request. */
export function requestIdMixin(): Partial<RequestLogContext> {
  const store = requestLogContext.getStore();
  return store ? { reqId: store.reqId } : {};
}

/**
 * Nest's LoggerService over one pino logger: Nest's `Logger` calls (with their context) become pino lines at
 * the same levels. The first object argument, if any, is merged into the line.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ) {
    if (!this.pino.isLevelEnabled(level)) return;
    // Nest passes the context (a class name) last; an error's stack may come before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message !== null && typeof message === 'object') {
      const { msg, ...fields } = message as Record<string, unknown>;
      const text = typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : msg;
      this.pino[level]({ ...fields, context }, typeof text === 'string' ? text : undefined);
      return;
    }
    this.pino[level]({ context }, String(message));
  }
}
