import type { Vendor } from "./domain/vendor.js";
import type { VendorCallRecord } from "./http/client.js";
import type { Logger } from "./logging.js";
import { PacerRegistry, type RateBudgetFactory } from "./pacing/pacer.js";
import type { RandomFault } from "./sandbox/faults.js";
import type { SandboxServer } from "./sandbox/kit.js";
import type { ClosableAdapter, ConfigResult, Env, VendorModule } from "./vendors/define-vendor.js";
import { ConfigError, circuitSettings, type AppConfig, type SandboxMode } from "./config/app-config.js";
import { redisBudgets } from "./pacing/redis-pacer.js";
import type { SharedState } from "./redis/shared-state.js";
import { redisKeyedLocks } from "./reliability/redis-keyed-lock.js";
import { NO_RETRIES, type RetryPolicy } from "./http/client.js";
import { SecretScrubber, withScrubbedFailures, type SecretValue } from "./http/redaction.js";
import { CircuitBreaker, withCircuitBreaker, type CircuitSettings } from "./reliability/circuit-breaker.js";
import type { KeyedLock } from "./reliability/keyed-lock.js";

export interface VendorRuntime {
  readonly vendors: readonly Vendor[];
  /** Running sandbox servers by vendor id (empty when every vendor is live). */
  readonly sandboxes: ReadonlyMap<string, SandboxServer>;
  /** Every configured secret (sandbox credentials included), for scrubbing and leak checks. */
  readonly secrets: readonly SecretValue[];
  /** Scrubs every form of those secrets: what every vendor failure and every GraphQL error passes through. */
  readonly scrubber: SecretScrubber;
  /** One breaker per configured vendor, for metrics and readiness. */
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  /** The pacers every adapter shares, for metrics (waits, backlog). */
  readonly pacers: PacerRegistry;
  /** One line per vendor for the start-up log: mode and target, never a secret. */
  readonly summary: ReadonlyArray<{ vendor: string; mode: Vendor["mode"]; target?: string }>;
  close(): Promise<void>;
}

/**
 * Every secret variable any vendor declares that `env` sets, for scrubbing and leak checks: as
 * sent (trimmed, as the readers give it to the adapters) and as written (a secret mounted from a
 * file often ends in a newline). A Basic pair uses the user as sent.
 */
export function secretValues(modules: readonly VendorModule[], env: Env): SecretValue[] {
  return modules.flatMap((module) =>
    Object.entries(module.env)
      .filter(([name, variable]) => variable.secret && env[name]?.trim())
      .flatMap(([name, variable]): SecretValue[] => {
        const written = env[name]!;
        const forms = [...new Set([written.trim(), written])];
        if (!variable.basicAuth) return forms.map((value) => ({ value }));
        const userVariable = variable.basicAuth.userVariable;
        const basicUser = userVariable === undefined ? "" : (env[userVariable] ?? "").trim();
        return forms.map((value) => ({ value, basicUser }));
      }),
  );
}

/**
 * Secrets of the process that are not a vendor's: the JWT secret, and the password in REDIS_URL
 * (as written, and decoded). Scrubbed like vendor credentials.
 */
export function applicationSecrets(env: Env): SecretValue[] {
  const secrets: SecretValue[] = [];
  if (env.AUTH_JWT_SECRET?.trim()) secrets.push({ value: env.AUTH_JWT_SECRET.trim() });
  try {
    const password = env.REDIS_URL ? new URL(env.REDIS_URL).password : "";
    if (password) secrets.push({ value: password }, { value: decodeURIComponent(password) });
  } catch {
    // Not a URL: the configuration check reports it, and there is no password to find.
  }
  return secrets;
}

/** Every secret this process holds from its environment: the vendors' and the application's. */
export function processSecrets(env: Env, modules: readonly VendorModule[]): SecretValue[] {
  return [...secretValues(modules, env), ...applicationSecrets(env)];
}

export interface StartVendorsOptions {
  readonly sandbox: SandboxMode;
  readonly sandboxHost?: string;
  readonly sandboxUserIds?: readonly string[];
  /** Per vendor id: the sandbox's rate limit, replacing the vendor's documented one. */
  readonly sandboxRateLimits?: Readonly<Record<string, number>>;
  readonly sandboxFaults?: readonly RandomFault[];
  readonly logger?: Logger;
  /** Observes every vendor HTTP exchange besides the log (metrics). */
  readonly onCall?: (call: VendorCallRecord) => void;
  readonly retry?: RetryPolicy;
  readonly circuit?: CircuitSettings;
  /**
   * Where each vendor credential's rate budget lives: in this process by default; shared mode
   * passes `redisBudgets(redis, keyPrefix)` (src/pacing/redis-pacer.ts).
   */
  readonly rateBudgets?: RateBudgetFactory;
  /** Largest vendor answer read (VENDOR_MAX_RESPONSE_BYTES); default DEFAULT_MAX_RESPONSE_BYTES. */
  readonly maxResponseBytes?: number;
  /** Longest an interactive call waits for a vendor's rate budget (VENDOR_MAX_WAIT_MS); default each vendor's timeout. */
  readonly maxWaitMs?: number;
  /** Secrets besides the vendors' (applicationSecrets) that the scrubber must know too. */
  readonly extraSecrets?: readonly SecretValue[];
  /** The adapters' keyed locks (AdapterDeps.locks): shared mode passes redisKeyedLocks; default in process. */
  readonly locks?: (name: string) => KeyedLock;
}

/**
 * The vendors as the subgraph and the worker start them: from the application's configuration,
 * with the rate budgets and Leanplum's per-user locks in Redis when the process shares state, so
 * that every replica and worker keeps one budget per credential and one writer per user.
 */
export function startConfiguredVendors(
  modules: readonly VendorModule[],
  env: Env,
  config: AppConfig,
  options: { readonly shared?: SharedState; readonly logger: Logger; readonly onCall: (call: VendorCallRecord) => void },
): Promise<VendorRuntime> {
  const { shared } = options;
  return startVendors(modules, env, {
    sandbox: config.sandbox,
    sandboxHost: "127.0.0.1",
    sandboxUserIds: config.sandboxUserIds,
    sandboxFaults: config.sandboxFaults,
    retry: config.retry,
    circuit: config.circuit,
    maxResponseBytes: config.vendorLimits.maxResponseBytes,
    ...(config.vendorLimits.maxWaitMs === undefined ? {} : { maxWaitMs: config.vendorLimits.maxWaitMs }),
    extraSecrets: applicationSecrets(env),
    ...(shared
      ? {
          rateBudgets: redisBudgets(shared.commands, shared.settings.keyPrefix),
          locks: redisKeyedLocks(shared.commands, { keyPrefix: shared.settings.keyPrefix }),
        }
      : {}),
    logger: options.logger,
    onCall: options.onCall,
  });
}

/**
 * The composition root for vendors: reads every registered vendor's configuration, starts
 * sandboxes where they are wanted, and builds one adapter per reachable vendor. A vendor with
 * credentials is live; with no credentials anywhere (or SANDBOX=true) every vendor is sandboxed.
 */
export async function startVendors(modules: readonly VendorModule[], env: Env, options: StartVendorsOptions): Promise<VendorRuntime> {
  const problems: string[] = [];
  const configs = modules.map((module) => {
    const result = module.readConfig(env);
    if (result.status === "invalid") problems.push(...result.problems.map((p) => `${module.displayName}: ${p}`));
    return result;
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const circuitDefaults = options.circuit ?? { failureThreshold: 5, cooldownMs: 30_000 };
  const circuits = modules.map((module) => circuitSettings(env, `${module.id.toUpperCase()}_`, circuitDefaults, problems));
  if (problems.length > 0) throw new ConfigError(problems);

  const anyConfigured = configs.some((c) => c.status === "configured");
  const useSandboxes = options.sandbox === "force" || (options.sandbox === "auto" && !anyConfigured);
  const pacers = new PacerRegistry({
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
    ...(options.rateBudgets ? { factory: options.rateBudgets } : {}),
  });
  const observers = [...(options.logger ? [vendorCallLogger(options.logger)] : []), ...(options.onCall ? [options.onCall] : [])];
  const onCall = observers.length > 0 ? (call: VendorCallRecord) => observers.forEach((observe) => observe(call)) : undefined;
  const adapters: ClosableAdapter[] = [];
  const sandboxes = new Map<string, SandboxServer>();
  const vendors: Vendor[] = [];
  const summary: Array<{ vendor: string; mode: Vendor["mode"]; target?: string }> = [];
  const secrets: SecretValue[] = [];
  let scrubber: SecretScrubber;
  const breakers = new Map<string, CircuitBreaker>();
  const retry = options.retry ?? NO_RETRIES;

  try {
    const resolved: Array<{ config: ConfigResult<unknown>; mode: Vendor["mode"] }> = [];
    for (const [index, module] of modules.entries()) {
      let config = configs[index]!;
      let mode: Vendor["mode"] = config.status === "configured" ? "live" : "not-configured";
      if (useSandboxes) {
        const sandbox = await module.startSandbox({
          ...(options.sandboxHost ? { host: options.sandboxHost } : {}),
          ...(options.sandboxUserIds ? { seedUserIds: options.sandboxUserIds } : {}),
          ...(options.sandboxRateLimits?.[module.id] ? { rateLimitPerSecond: options.sandboxRateLimits[module.id] } : {}),
        });
        if (options.sandboxFaults?.length) sandbox.setRandomFaults(options.sandboxFaults);
        sandboxes.set(module.id, sandbox);
        const sandboxEnv = module.sandboxEnv(sandbox.url);
        config = module.readConfig({ ...env, ...sandboxEnv });
        if (config.status !== "configured") throw new Error(`${module.id}: sandbox configuration is not usable`);
        // Sandbox credentials are treated like real ones: never logged, never returned.
        secrets.push(...secretValues([module], sandboxEnv));
        mode = "sandbox";
      } else if (config.status === "configured") {
        secrets.push(...secretValues([module], env));
      }
      resolved.push({ config, mode });
    }
    // Every vendor's failures are scrubbed of every configured secret: the scrubber cannot know
    // whose credential an echo carries, and one vendor's key must not leak through another.
    scrubber = new SecretScrubber([...secrets, ...(options.extraSecrets ?? [])]);
    for (const [index, module] of modules.entries()) {
      const { config, mode } = resolved[index]!;
      const base = {
        id: module.id,
        displayName: module.displayName,
        capabilities: module.capabilities,
        ...(module.options ? { options: module.options } : {}),
      };
      if (config.status === "configured") {
        const logger = options.logger;
        const adapter = module.createAdapter(config.config, {
          pacers,
          retry,
          ...(onCall ? { onCall } : {}),
          ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
          ...(options.locks ? { locks: options.locks } : {}),
          ...(logger
            ? {
                onUnexpectedError: (error: unknown, requestId: string) =>
                  logger.error({ vendor: module.id, requestId, err: error }, `unexpected error in the ${module.displayName} integration`),
              }
            : {}),
        });
        adapters.push(adapter);
        const breaker = new CircuitBreaker(module.id, module.displayName, circuits[index]!);
        if (logger) {
          breaker.onChange((state) => logger.warn({ vendor: module.id, circuit: state }, `circuit of ${module.id} is ${state}`));
        }
        breakers.set(module.id, breaker);
        vendors.push({ ...base, mode, adapter: withCircuitBreaker(withScrubbedFailures(adapter, scrubber), breaker) });
        summary.push({ vendor: module.id, mode, target: module.describe(config.config) });
      } else {
        vendors.push({ ...base, mode });
        summary.push({ vendor: module.id, mode });
      }
    }
  } catch (error) {
    await Promise.all([...sandboxes.values()].map((s) => s.close()));
    throw error;
  }

  return {
    vendors,
    sandboxes,
    breakers,
    pacers,
    secrets,
    scrubber,
    summary,
    async close() {
      for (const adapter of adapters) adapter.close();
      await Promise.all([...sandboxes.values()].map((s) => s.close()));
    },
  };
}

function vendorCallLogger(logger: Logger): (call: VendorCallRecord) => void {
  return (call) => {
    const level = call.outcome === "response" && (call.status ?? 0) < 500 ? "debug" : "warn";
    // The request id on top, like the operation's own line, so one field finds every line of a request.
    logger[level]({ requestId: call.requestId, vendorCall: call }, "vendor call");
  };
}
