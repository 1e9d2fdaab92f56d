/** The longest delay setTimeout honours: it fires at once for anything longer (Node warns and uses 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sleeps `ms`, or rejects with the signal's own reason when it aborts. The timer does not keep a
 * shutting-down process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // Rejects with the signal's own reason, whatever it is: cancellation is recognised by that identity (isCancellation).
    if (signal?.aborted) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    // A wait alone must not keep a shutting-down process alive.
    timer.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
