import http from "node:http";
import type { Logger } from "../logging.js";
import { splitUrl } from "./http-server.js";

export interface OpsServerOptions {
  readonly logger: Logger;
  /** GET /ready: 200 when ready, 503 otherwise, with the report as JSON. */
  readonly readiness: () => Promise<{ ready: boolean; report: unknown }>;
  /** Prometheus exposition for GET /metrics, or undefined when metrics are off. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
}

/**
 * The operational endpoints of a process that serves no GraphQL (a bulk worker): GET /health
 * (alive), GET /ready and GET /metrics, answering 404 to everything else.
 */
export function createOpsServer(options: OpsServerOptions): http.Server {
  const server = http.createServer((req, res) => {
    const { pathname } = splitUrl(req.url ?? "/");
    const method = (req.method ?? "GET").toUpperCase();
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    const serve = async (): Promise<void> => {
      if (method !== "GET" && method !== "HEAD") return json(405, { error: "method not allowed" });
      if (pathname === "/health") return json(200, { status: "ok" });
      if (pathname === "/ready") {
        const { ready, report } = await options.readiness();
        return json(ready ? 200 : 503, report);
      }
      if (pathname === "/metrics" && options.metrics) {
        const { contentType, body } = await options.metrics();
        res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
        res.end(body);
        return;
      }
      json(404, { error: "not found: this process runs bulk work and serves /health, /ready and /metrics only" });
    };
    serve().catch((error: unknown) => {
      options.logger.error({ err: error }, "unhandled error serving an operational request");
      if (!res.headersSent) json(500, { error: "internal server error" });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
