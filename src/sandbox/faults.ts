/**
 * The faults a sandbox vendor can be told to answer with, and their text forms (SANDBOX_FAULTS, the
 * x-sandbox-fault header, the admin route). Kept apart from the sandbox server itself so that
 * configuration can validate SANDBOX_FAULTS without loading any sandbox code.
 */

export type SandboxFault =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "rate-limit"; readonly retryAfterSeconds?: number }
  | { readonly kind: "hang"; readonly ms?: number }
  | { readonly kind: "reset" }
  | { readonly kind: "malformed" }
  /** A 200 with a proxy's HTML page instead of the vendor's answer (nothing applied). */
  | { readonly kind: "html" }
  /** A 200 with an empty body (nothing applied). */
  | { readonly kind: "empty" }
  /** A 200 whose body never ends (chunks until the client gives up): what a response size cap is for. */
  | { readonly kind: "endless" }
  /** The vendor's own refusal, its message echoing every credential the request carried (scrubbing tests). */
  | { readonly kind: "echo-credentials" }
  /** The request is applied, then the answer is lost: the ambiguous failure retries must respect. */
  | { readonly kind: "reset-after-apply" }
  /** The request is applied and its real answer starts (status line, part of the body), then the connection resets. */
  | { readonly kind: "cut-off-after-apply" }
  | { readonly kind: "status-after-apply"; readonly status: number }
  /** An outage: this request and every one for `seconds` after it answer 503, then the vendor recovers. */
  | { readonly kind: "down"; readonly seconds: number };

/** A fault answered at random to a share of requests (SANDBOX_FAULTS), for soak and chaos runs. */
export interface RandomFault {
  readonly fault: SandboxFault;
  readonly probability: number;
}

export const FAULT_HEADER = "x-sandbox-fault";

/**
 * Parses a fault: `500`, `503`, `429`, `429;retry-after=2`, `hang`, `hang;ms=500`, `reset`,
 * `malformed`, `html`, `empty`, `endless`, `echo-credentials`, `reset-after-apply`,
 * `cut-off-after-apply`, `500-after-apply`, `down;seconds=30`.
 */
export function parseFault(value: string): SandboxFault | undefined {
  const [head = "", ...params] = value.split(";").map((part) => part.trim());
  for (const kind of ["reset-after-apply", "cut-off-after-apply", "html", "empty", "endless", "echo-credentials"] as const) {
    if (head === kind) return { kind };
  }
  const afterApply = /^(\d{3})-after-apply$/.exec(head);
  if (afterApply) return { kind: "status-after-apply", status: Number(afterApply[1]) };
  const param = (name: string): number | undefined => {
    const found = params.find((p) => p.startsWith(`${name}=`));
    return found ? Number(found.slice(name.length + 1)) : undefined;
  };
  if (head === "hang") {
    const ms = param("ms");
    return ms === undefined ? { kind: "hang" } : { kind: "hang", ms };
  }
  if (head === "reset") return { kind: "reset" };
  if (head === "down") {
    const seconds = param("seconds") ?? 30;
    return Number.isFinite(seconds) && seconds > 0 && seconds <= 3_600 ? { kind: "down", seconds } : undefined;
  }
  if (head === "malformed") return { kind: "malformed" };
  if (head === "429") {
    const retryAfterSeconds = param("retry-after");
    return retryAfterSeconds === undefined ? { kind: "rate-limit" } : { kind: "rate-limit", retryAfterSeconds };
  }
  const status = Number(head);
  if (Number.isInteger(status) && status >= 400 && status <= 599) return { kind: "status", status };
  return undefined;
}

/** Parses SANDBOX_FAULTS, for example `503:0.02,429:0.01,hang;ms=2000:0.005,reset:0.005`. */
export function parseRandomFaults(spec: string): { faults: RandomFault[]; problems: string[] } {
  const faults: RandomFault[] = [];
  const problems: string[] = [];
  for (const part of spec
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = part.lastIndexOf(":");
    const fault = at > 0 ? parseFault(part.slice(0, at)) : undefined;
    const probability = at > 0 ? Number(part.slice(at + 1)) : NaN;
    if (!fault || !(probability > 0 && probability <= 1))
      problems.push(`SANDBOX_FAULTS entry "${part}" must be <fault>:<probability 0..1>`);
    else faults.push({ fault, probability });
  }
  if (faults.reduce((sum, f) => sum + f.probability, 0) > 1) problems.push("SANDBOX_FAULTS probabilities add up to more than 1");
  return { faults, problems };
}
