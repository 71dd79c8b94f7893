import { ChildPool, type ChildPoolEvent, type ChildPoolOptions } from './child-pool';

/** A pool for tests: test tasks on, quiet children, and an event log tests can await on. */
export function testPool(options: Partial<ChildPoolOptions> = {}): { pool: ChildPool; events: EventLog } {
  const events = new EventLog();
  const pool = new ChildPool({
    size: 1,
    allowTestTasks: true,
    stdio: 'ignore',
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { pool, events };
}

export class EventLog {
  readonly all: ChildPoolEvent[] = [];
  private readonly waiters: {
    match: (e: ChildPoolEvent) => boolean;
    resolve: (e: ChildPoolEvent) => void;
  }[] = [];

  push(event: ChildPoolEvent): void {
    this.all.push(event);
    for (const w of [...this.waiters]) {
      if (w.match(event)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  }

  /** The first event (already seen or future) matching `match`. */
  wait(match: (e: ChildPoolEvent) => boolean): Promise<ChildPoolEvent> {
    const seen = this.all.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  exitOf(pid: number): Promise<ChildPoolEvent> {
    return this.wait((e) => e.type === 'exit' && e.pid === pid);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface SleepResult {
  pid: number;
  start: number;
  end: number;
}
