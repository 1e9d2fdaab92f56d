import type { VendorFailure } from "../domain/failures.js";
import type { ProfileReadOutcome } from "../domain/profile-read.js";
import type { DeliveryOutcome } from "../domain/results.js";
import type { VendorAdapter } from "../domain/vendor.js";

/** What replaces a secret wherever it appears. */
export const REDACTED = "[redacted]";

/** Forms shorter than this are not searched for: they would redact ordinary words. */
const MIN_FORM_LENGTH = 4;

/** A secret and, when it is the password of HTTP Basic auth, the user it is paired with ("" for none). */
export interface SecretValue {
  readonly value: string;
  readonly basicUser?: string;
}

/**
 * Every form in which a configured secret can come back from a vendor or a proxy: as is,
 * URL-encoded (a key sent in a query string or a form), and, for Basic auth passwords, the
 * base64 `user:password` pair of the Authorization header a vendor may echo.
 */
export function secretForms(secrets: readonly SecretValue[]): string[] {
  const forms = new Set<string>();
  for (const { value, basicUser } of secrets) {
    if (value.length === 0) continue;
    forms.add(value);
    forms.add(encodeURIComponent(value));
    forms.add(new URLSearchParams({ s: value }).toString().slice(2)); // form encoding: spaces as "+"
    if (basicUser !== undefined) forms.add(Buffer.from(`${basicUser}:${value}`, "utf8").toString("base64"));
  }
  // Longest first, so a form that contains another is replaced whole.
  return [...forms].filter((form) => form.length >= MIN_FORM_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each of `forms` replaced by REDACTED. */
export function scrubText(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

/**
 * Replaces every form of every configured secret in text. The one mechanism every vendor's
 * failure text, every log line and every GraphQL error passes through: vendors echo requests
 * back in error messages, and whatever they echo must not reach a caller or a log.
 */
export class SecretScrubber {
  readonly forms: readonly string[];

  constructor(secrets: readonly SecretValue[]) {
    this.forms = secretForms(secrets);
  }

  scrub(text: string): string {
    return scrubText(text, this.forms);
  }

  /** The failure with its message, vendor code and related failures scrubbed. */
  failure(failure: VendorFailure): VendorFailure {
    const message = this.scrub(failure.message);
    const vendorCode = failure.vendorCode === undefined ? undefined : this.scrub(failure.vendorCode);
    const related = failure.related.map((f) => this.failure(f));
    return {
      ...failure,
      message,
      ...(vendorCode === undefined ? {} : { vendorCode }),
      related,
    };
  }
}

/**
 * The adapter with every failure it returns scrubbed, so no vendor integration has to remember to
 * do it: updates, bulk outcomes, profile reads and pre-send checks alike.
 */
export function withScrubbedFailures(adapter: VendorAdapter, scrubber: SecretScrubber): VendorAdapter {
  if (scrubber.forms.length === 0) return adapter;
  const delivery = (outcome: DeliveryOutcome): DeliveryOutcome =>
    outcome.ok ? outcome : { ...outcome, failure: scrubber.failure(outcome.failure) };
  const read = (outcome: ProfileReadOutcome): ProfileReadOutcome =>
    outcome.ok ? outcome : { ...outcome, failure: scrubber.failure(outcome.failure) };
  const wrapped: VendorAdapter = {
    update: async (command, context) => delivery(await adapter.update(command, context)),
  };
  if (adapter.isRepeatSafe) wrapped.isRepeatSafe = adapter.isRepeatSafe.bind(adapter);
  if (adapter.check) {
    const check = adapter.check.bind(adapter);
    wrapped.check = (command) => check(command).map((failure) => scrubber.failure(failure));
  }
  if (adapter.readProfiles) {
    const readProfiles = adapter.readProfiles.bind(adapter);
    wrapped.readProfiles = async (userIds, context) =>
      new Map([...(await readProfiles(userIds, context))].map(([id, outcome]) => [id, read(outcome)]));
  }
  if (adapter.setForMany) {
    const setForMany = adapter.setForMany.bind(adapter);
    wrapped.setForMany = async (userIds, change, context) =>
      new Map([...(await setForMany(userIds, change, context))].map(([id, outcome]) => [id, delivery(outcome)]));
  }
  if (adapter.planBulk) wrapped.planBulk = adapter.planBulk.bind(adapter);
  return wrapped;
}
