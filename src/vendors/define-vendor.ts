import type { VendorCapabilities } from "../domain/capabilities.js";
import type { VendorOptionsSpec } from "../domain/options.js";
import type { VendorAdapter } from "../domain/vendor.js";
import type { SharedHttpOptions } from "../http/client.js";
import type { PacerRegistry } from "../pacing/pacer.js";
import type { KeyedLock } from "../reliability/keyed-lock.js";
import type { SandboxServer } from "../sandbox/kit.js";
import type { Env, VariableSpec } from "../config/variables.js";

export type { Env } from "../config/variables.js";

export type ConfigResult<C> =
  | { readonly status: "absent" }
  | { readonly status: "invalid"; readonly problems: readonly string[] }
  | { readonly status: "configured"; readonly config: C };

/** What the composition root gives every adapter: shared pacers and locks, and the options of every vendor HttpClient. */
export interface AdapterDeps extends SharedHttpOptions {
  readonly pacers: PacerRegistry;
  /**
   * The keyed lock of a name (say, one vendor app), for rules that must hold per key wherever the
   * vendor is called from. Default: inProcessLocks (one KeyedMutex per name in this process); in
   * shared mode, redisKeyedLocks, which spans replicas and workers.
   */
  readonly locks?: (name: string) => KeyedLock;
  /**
   * An error the adapter turned into a typed INTERNAL failure instead of letting it propagate
   * (the failure says the outcome is unknown; this keeps the cause for the logs).
   */
  readonly onUnexpectedError?: (error: unknown, requestId: string) => void;
}

export interface ClosableAdapter extends VendorAdapter {
  close(): void;
}

export interface SandboxOptions {
  readonly port?: number;
  readonly host?: string;
  /** Users that exist from the start, for vendors that never create users on write. */
  readonly seedUserIds?: readonly string[];
  /** Overrides the vendor's documented rate limit (requests per second), to scale tests and benchmarks. */
  readonly rateLimitPerSecond?: number;
}

/**
 * Everything one vendor brings, in its own folder. The composition root reads these from the
 * registry; nothing outside the folder names the vendor.
 */
export interface VendorDefinition<Id extends string, C, S extends SandboxServer = SandboxServer> {
  readonly id: Id;
  readonly displayName: string;
  readonly capabilities: VendorCapabilities;
  /** The vendor's variables: the spec its readConfig reads them with. */
  readonly env: VariableSpec;
  readonly docsUrl: string;
  /** Vendor-specific input, when the vendor has any; parsed values reach the adapter as `command.vendorOptions[id]`. */
  readonly options?: VendorOptionsSpec;
  /** Reads and validates this vendor's variables; "absent" when none of its credentials is set. */
  readConfig(env: Env): ConfigResult<C>;
  /** Variables that point this vendor at a running sandbox of it (URL and sandbox credentials). */
  sandboxEnv(sandboxUrl: string): Env;
  /** Where calls go, for the start-up log. Must not contain secrets. */
  describe(config: C): string;
  createAdapter(config: C, deps: AdapterDeps): ClosableAdapter;
  startSandbox(options: SandboxOptions): Promise<S>;
}

/** The registry's uniform view: the configuration type is private to the vendor. */
export type VendorModule<Id extends string = string> = VendorDefinition<Id, unknown>;

export function defineVendor<Id extends string, C, S extends SandboxServer>(definition: VendorDefinition<Id, C, S>): VendorModule<Id> {
  // Method parameters are bivariant, so the typed definition is assignable to the erased view.
  return definition;
}
