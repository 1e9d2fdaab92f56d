import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from "@apollo/server";
import {
  Kind,
  defaultTypeResolver,
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  type DocumentNode,
  type FieldNode,
  type OperationTypeNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import type { DeliveryHooks } from "../delivery/engine.js";
import type { DispatchHooks } from "../domain/dispatch.js";
import type { DeliveryOutcome } from "../domain/results.js";
import { withoutPathRedaction, type Logger } from "../logging.js";
import type { Metrics } from "./metrics.js";

/** One vendor's delivery as the operation's log line shows it. */
export interface DeliveryNote {
  readonly vendor: string;
  /** "delivered", "queued", or the typed failure's category. */
  readonly outcome: string;
  /** Absent for an update queued behind an earlier one (nothing was sent). */
  readonly durationMs?: number;
  readonly retryable?: boolean;
  readonly vendorCode?: string;
  /** A queued delivery's id and why it was queued. */
  readonly deliveryId?: string;
  readonly reason?: string;
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
 * AttributesUpdateSuccess or AttributesInvalidInputError), every vendor delivery it made and the duration.
 * Variables are never logged: they carry users' data.
 */
export class OperationObserver {
  private readonly records = new WeakMap<DispatchHooks, OperationRecord>();
  /** The per-operation line is built only from fields known to carry no secret: no path redaction. */
  private readonly operationLogger: Logger;

  constructor(
    logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.operationLogger = withoutPathRedaction(logger);
  }

  /**
   * The dispatch hooks of one operation's context: `base` plus counting each delivery and keeping
   * it for the operation's log line. The notes are found again through the hooks object, which
   * stays the same when Apollo Server copies the context.
   */
  dispatchHooks(base: DispatchHooks): DeliveryHooks {
    const record: OperationRecord = { deliveries: [], rootTypenames: new Map() };
    const hooks: DeliveryHooks = {
      ...base,
      onOutcome: (outcome, details) => {
        this.metrics.recordDelivery(outcome, details.durationMs);
        record.deliveries.push(noteOf(outcome, details.durationMs));
      },
      onQueued: (queued) => {
        this.metrics.recordQueued(queued.vendor, queued.reason);
        record.deliveries.push({ vendor: queued.vendor, outcome: "queued", deliveryId: queued.deliveryId, reason: queued.reason });
      },
    };
    this.records.set(hooks, record);
    return hooks;
  }

  plugin<TContext extends ObservedContext>(): ApolloServerPlugin<TContext> {
    return {
      serverWillStart: ({ schema }) => {
        this.recordRootTypenames(schema);
        return Promise.resolve();
      },
      requestDidStart: () => {
        const started = performance.now();
        return Promise.resolve({
          willSendResponse: (requestContext) => {
            this.report(requestContext, performance.now() - started);
            return Promise.resolve();
          },
        });
      },
    };
  }

  /**
   * A root field that returns a union or an interface answers with one of its member types, which
   * only type resolution knows. Wrapping the few abstract types' `resolveType` (rather than every
   * field resolver through Apollo's `willResolveField`) records it at the cost of one check per
   * abstract value.
   */
  private recordRootTypenames(schema: GraphQLSchema): void {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isAbstractType(type) || type.name.startsWith("__")) continue;
      const resolve = type.resolveType ?? defaultTypeResolver;
      type.resolveType = (value, context: Partial<ObservedContext> | undefined, info, abstractType) => {
        const resolved = resolve(value, context, info, abstractType);
        if (info.path.prev === undefined && context?.dispatchHooks) {
          const record = this.records.get(context.dispatchHooks);
          const key = String(info.path.key);
          if (typeof resolved === "string") record?.rootTypenames.set(key, resolved);
          else
            void resolved?.then(
              (name) => name !== undefined && record?.rootTypenames.set(key, name),
              () => undefined,
            );
        }
        return resolved;
      };
    }
  }

  private report<TContext extends ObservedContext>(
    requestContext: GraphQLRequestContextWillSendResponse<TContext>,
    durationMs: number,
  ): void {
    const { operation, response, contextValue, schema } = requestContext;
    const body = response.body.kind === "single" ? response.body.singleResult : undefined;
    const errorCodes = (body?.errors ?? []).map((e) => (typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN"));
    const selections = operation ? rootFieldNodes(operation.selectionSet, requestContext.document) : [];
    const fields = [...new Set(selections.map((node) => node.name.value))];
    const type = operation?.operation ?? "unknown";
    const field = fields[0] ?? "none";
    const record = this.records.get(contextValue.dispatchHooks);
    const first = selections[0];
    const result =
      first && operation
        ? resultOf(first, schema, operation.operation, body?.data, record, errorCodes.length > 0)
        : errorCodes.length > 0
          ? "error"
          : "none";
    this.metrics.recordOperation({ type, field, result, durationMs });
    // Above info (LOG_LEVEL=warn) the line is not written: do not build it either.
    if (!this.operationLogger.isLevelEnabled("info")) return;
    const name = requestContext.operationName ?? null;
    const deliveries = record?.deliveries ?? [];
    this.operationLogger.info(
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

/** What one operation's context collects for its log line and metrics. */
interface OperationRecord {
  readonly deliveries: DeliveryNote[];
  /** Root response key → the member type it resolved to, for root fields returning a union or interface. */
  readonly rootTypenames: Map<string, string>;
}

/**
 * The GraphQL type name the operation's first root field answered with: the union member for
 * abstract results, "list" or "null", or "error" when it failed.
 */
function resultOf(
  node: FieldNode,
  schema: GraphQLSchema,
  operationType: OperationTypeNode,
  data: Record<string, unknown> | null | undefined,
  record: OperationRecord | undefined,
  hasErrors: boolean,
): string {
  const key = node.alias?.value ?? node.name.value;
  const value = data?.[key];
  if (node.name.value === "__typename") return "String";
  if (value === undefined || value === null) return hasErrors ? "error" : "null";
  if (node.name.value === "__schema") return "__Schema";
  if (node.name.value === "__type") return "__Type";
  const definition = schema.getRootType(operationType)?.getFields()[node.name.value];
  if (!definition) return "none";
  if (isListType(getNullableType(definition.type))) return "list";
  const named = getNamedType(definition.type);
  if (!isAbstractType(named)) return named.name;
  return record?.rootTypenames.get(key) ?? named.name;
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

/** Root field selections of a validated operation, through fragments (validation rules out cycles). */
function rootFieldNodes(selectionSet: SelectionSetNode, document: DocumentNode | undefined): FieldNode[] {
  const nodes: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) nodes.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) nodes.push(...rootFieldNodes(selection.selectionSet, document));
    else {
      const fragment = document?.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) nodes.push(...rootFieldNodes(fragment.selectionSet, document));
    }
  }
  return nodes;
}
