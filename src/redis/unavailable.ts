/**
 * Whether an error means shared mode's Redis cannot be reached right now (the commands connection
 * refuses while it is down, rather than queueing: see connectRedis), as opposed to a bug.
 */
export function isRedisUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError") return true;
  return /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH/.test(error.message);
}

export const UNREACHABLE = Symbol("shared state unreachable");

/** The call's result, or UNREACHABLE when shared mode's Redis cannot be reached (answered as a typed error). */
export async function whileReachable<T>(call: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
  try {
    return await call();
  } catch (error) {
    if (isRedisUnreachable(error)) return UNREACHABLE;
    throw error;
  }
}
