/**
 * Memoizes objects for the lifetime of one GraphQL operation (or one bulk job), so that an adapter
 * can keep request-scoped DataLoaders (id look-ups batched and cached per request) without the
 * GraphQL layer knowing about them.
 */
export class RequestScope {
  private readonly entries = new Map<string, unknown>();

  get<T>(key: string, create: () => T): T {
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const value = create();
    this.entries.set(key, value);
    return value;
  }
}
