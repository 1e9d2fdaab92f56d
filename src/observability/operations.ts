import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from "@apollo/server";
import {
  Kind,
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  isObjectType,
  type DocumentNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from "graphql";
import type { DispatchHooks } from "../domain/dispatch.js";
import type { DeliveryOutcome } from "../domain/results.js";
import type { Logger } from "../logging.js";
import type { Metrics } from "./metrics.js";

/** One vendor's delivery as the operation's log line shows it. */
export interface DeliveryNote {
  readonly vendor: string;
  /** "delivered", or the typed failure's category. */
  readonly outcome: string;
  readonly durationMs: number;
  readonly retryable?: boolean;
  readonly vendorCode?: string;
}

/** What the plugin reads from an operation's context. */
interface ObservedContext {
  readonly requestId: string;
  readonly dispatchHooks: DispatchHooks;
}

/** Operation names are the client's text: long enough to recognize, short enough for a log line. */
const MAX_NAME_LENGTH = 200;

/**
 * One structured log line and one metrics sample per GraphQL operation: request id, operation
 * name and type, root fields, the first root field's result type (the union member, such as
 * UpdateAttributesSuccess or InvalidInputError), every vendor delivery it made and the duration.
 * Variables are never logged: they carry users' data.
 */
export class OperationObserver {
  private readonly deliveries = new WeakMap<DispatchHooks, DeliveryNote[]>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * The dispatch hooks of one operation's context: `base` plus counting each delivery and keeping
   * it for the operation's log line. The notes are found again through the hooks object, which
   * stays the same when Apollo Server copies the context.
   */
  dispatchHooks(base: DispatchHooks): DispatchHooks {
    const notes: DeliveryNote[] = [];
    const hooks: DispatchHooks = {
      ...base,
      onOutcome: (outcome, details) => {
        this.metrics.recordDelivery(outcome, details.durationMs);
        notes.push(noteOf(outcome, details.durationMs));
      },
    };
    this.deliveries.set(hooks, notes);
    return hooks;
  }

  plugin<TContext extends ObservedContext>(): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: () => {
        const started = performance.now();
        let rootResult: Promise<string> | undefined;
        return Promise.resolve({
          executionDidStart: () =>
            Promise.resolve({
              willResolveField: ({ info, contextValue }) => {
                // Only the first root field: its result type is what the operation answered.
                if (info.path.prev !== undefined || rootResult !== undefined) return;
                let settle: (typename: string) => void = () => undefined;
                rootResult = new Promise<string>((resolve) => (settle = resolve));
                return (error, result) => {
                  if (error) settle("error");
                  else void resultTypename(info, contextValue, result).then(settle, () => settle("unknown"));
                };
              },
            }),
          willSendResponse: async (requestContext) => {
            await this.report(requestContext, performance.now() - started, rootResult);
          },
        });
      },
    };
  }

  private async report<TContext extends ObservedContext>(
    requestContext: GraphQLRequestContextWillSendResponse<TContext>,
    durationMs: number,
    rootResult: Promise<string> | undefined,
  ): Promise<void> {
    const { operation, response, contextValue } = requestContext;
    const body = response.body.kind === "single" ? response.body.singleResult : undefined;
    const errorCodes = (body?.errors ?? []).map((e) => (typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN"));
    const fields = operation ? rootFields(operation.selectionSet, requestContext.document) : [];
    const type = operation?.operation ?? "unknown";
    const field = fields[0] ?? "none";
    const result = rootResult ? await rootResult : errorCodes.length > 0 ? "error" : "none";
    this.metrics.recordOperation({ type, field, result, durationMs });
    const name = requestContext.operationName ?? null;
    const deliveries = this.deliveries.get(contextValue.dispatchHooks) ?? [];
    this.logger.info(
      {
        requestId: contextValue.requestId,
        operation: { name: name === null ? null : name.slice(0, MAX_NAME_LENGTH), type, fields, result },
        durationMs: Math.round(durationMs * 100) / 100,
        ...(deliveries.length > 0 ? { deliveries } : {}),
        ...(errorCodes.length > 0 ? { errors: errorCodes } : {}),
      },
      "graphql operation",
    );
  }
}

function noteOf(outcome: DeliveryOutcome, durationMs: number): DeliveryNote {
  const rounded = Math.round(durationMs * 100) / 100;
  if (outcome.ok) return { vendor: outcome.vendor, outcome: "delivered", durationMs: rounded };
  const { failure } = outcome;
  return {
    vendor: outcome.vendor,
    outcome: failure.category,
    durationMs: rounded,
    retryable: failure.retryable,
    ...(failure.vendorCode === undefined ? {} : { vendorCode: failure.vendorCode }),
  };
}

/** Root field names of a validated operation, through fragments (validation rules out cycles). */
function rootFields(selectionSet: SelectionSetNode, document: DocumentNode | undefined): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) names.push(...rootFields(selection.selectionSet, document));
    else {
      const fragment = document?.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) names.push(...rootFields(fragment.selectionSet, document));
    }
  }
  return [...new Set(names)];
}

/** The GraphQL type name a root field resolved to: the union member for union results. */
async function resultTypename(info: GraphQLResolveInfo, context: unknown, result: unknown): Promise<string> {
  if (result === null || result === undefined) return "null";
  if (isListType(getNullableType(info.returnType))) return "list";
  const named = getNamedType(info.returnType);
  if (isObjectType(named)) return named.name;
  if (isAbstractType(named) && named.resolveType) {
    const resolved = await named.resolveType(result, context, info, named);
    if (typeof resolved === "string") return resolved;
  }
  return named.name;
}
