/**
 * Baseline (b) of the overhead benchmark: raw node:http that reads the POST body and answers the
 * payload given in BASELINE_PAYLOAD (the subgraph's own answer), with no GraphQL and no vendor call.
 * Prints `READY <url>`.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const payload = process.env.BASELINE_PAYLOAD ?? '{"data":{}}';
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(payload);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
