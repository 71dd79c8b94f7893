/**
 * SIGINT/SIGTERM: close the app (Nest runs its shutdown hooks: the worker finishes in-flight jobs, pools and
 * connections close), then exit 0. A second signal forces the exit.
 */
export function exitOnSignals(
  close: () => Promise<void>,
  log: (msg: string) => void = () => undefined,
): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(130);
    closing = true;
    log(`${signal} received, shutting down`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
