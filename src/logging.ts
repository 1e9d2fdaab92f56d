import os from "node:os";
import { pino, type DestinationStream, type Logger } from "pino";
import { scrubText } from "./http/redaction.js";

export type { Logger } from "pino";

/**
 * JSON logs that cannot carry a secret: known credential fields are redacted by path, and, as a
 * last line of defence, every configured secret value is replaced wherever it appears in a line.
 */
export function createLogger(options: {
  level: string;
  /** Every form of every secret to replace in each line (see secretForms). */
  secrets?: readonly string[];
  destination?: DestinationStream;
  /**
   * Without a destination, stdout: synchronously (pino's default) when true; when false, lines are
   * written off the request path (a blocking write per line put the disk's stalls into request tails)
   * and flushed when the process exits.
   */
  sync?: boolean;
  /** Where lines go without a destination: a file descriptor or a file path; stdout (1) by default. */
  target?: number | string;
  /**
   * Asynchronous only: most bytes held while the target does not keep up (a stalled pipe or log
   * driver); lines beyond it are dropped and reported to `onDrop` instead of growing memory without
   * bound. Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /** Called once per dropped line (the process's metrics count them). */
  onDrop?: () => void;
  /** The `service` field of every line; default attributes-subgraph (the dev users subgraph has its own). */
  service?: string;
}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  return pino(
    {
      level: options.level,
      base: { service: options.service ?? "attributes-subgraph" },
      redact: {
        paths: ["*.authorization", "*.headers.authorization", "*.clientKey", "*.apiKey", "*.password", "*.secret"],
        censor: "[redacted]",
      },
      hooks: secrets.length > 0 ? { streamWrite: (line) => scrubText(line, secrets) } : {},
    },
    options.destination ?? destinationFor(options),
  );
}

function destinationFor(options: { sync?: boolean; target?: number | string; maxBufferedBytes?: number; onDrop?: () => void }) {
  const sync = options.sync ?? true;
  const destination = pino.destination({
    dest: options.target ?? 1,
    sync,
    ...(sync ? {} : { maxLength: options.maxBufferedBytes ?? 16 * 1_048_576 }),
  });
  const onDrop = options.onDrop;
  if (onDrop) destination.on("drop", () => onDrop());
  return destination;
}

/**
 * The same logger (level, destination, secret scrubbing) without path redaction, for hot lines built
 * only from fields that cannot hold a credential: redaction walks every line's object, wildcards
 * included, and cost more than the rest of the line.
 */
export function withoutPathRedaction(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/**
 * Ends the process with `code` once every log line is written: it lets Node exit by itself, after
 * the asynchronous writes still pending. (sonic-boom's flush callback fires at once when lines are
 * not batched, even with a write in flight, and an explicit exit then runs pino's synchronous
 * flush, which can overtake that write: "stopped" was seen before the request line preceding it.)
 * Anything else still holding the process open is cut off after 2 s.
 */
export function exitAfterLogs(logger: Logger, code: number): void {
  process.exitCode = code;
  logger.flush();
  setTimeout(() => process.exit(code), 2_000).unref();
}

/**
 * Stops the process on SIGINT or SIGTERM: `drain` runs once, and its outcome decides the exit code
 * (0 or 1, once the logs are written). A second signal during the drain exits at once with
 * 128 + the signal's number, saying what that cuts off.
 */
export function stopOnSignals(
  logger: Logger,
  options: { readonly graceMs: number; readonly draining: string; readonly secondSignal: string; readonly drain: () => Promise<unknown> },
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, `second signal during the shutdown: ${options.secondSignal}`);
      logger.flush();
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    }
    stopping = true;
    logger.info({ signal, graceMs: options.graceMs }, `shutting down: ${options.draining}`);
    options.drain().then(
      () => {
        logger.info("stopped");
        exitAfterLogs(logger, 0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        exitAfterLogs(logger, 1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
