/**
 * Whether an error means shared mode's Redis cannot be reached right now (the commands connection
 * refuses while it is down, rather than queueing: see connectRedis), as opposed to a bug.
 */
export function isRedisUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError") return true;
  return /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH/.test(error.message);
}
