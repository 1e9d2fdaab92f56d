import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { IntrospectionQuery } from "graphql";
import type { ExampleOperation } from "../graphql/examples.js";

const require = createRequire(import.meta.url);

function packageFile(pkg: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

/** GraphiQL and React served from node_modules, so the page works with no internet access. */
export const GRAPHIQL_ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "react.js": { file: packageFile("react", "umd/react.production.min.js"), type: "text/javascript" },
  "react-dom.js": { file: packageFile("react-dom", "umd/react-dom.production.min.js"), type: "text/javascript" },
  "graphiql.js": { file: packageFile("graphiql", "graphiql.min.js"), type: "text/javascript" },
  "graphiql.css": { file: packageFile("graphiql", "graphiql.min.css"), type: "text/css" },
};

const assetCache = new Map<string, Buffer>();

export async function readAsset(name: string): Promise<{ body: Buffer; type: string } | undefined> {
  const asset = GRAPHIQL_ASSETS[name];
  if (!asset) return undefined;
  let body = assetCache.get(name);
  if (!body) {
    body = await readFile(asset.file);
    assetCache.set(name, body);
  }
  return { body, type: asset.type };
}

/** `<` is escaped so that no example text can close the script element. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * The GraphiQL page. `schema` (an introspection result) is embedded when given, so GraphiQL has
 * docs and completion without sending its own introspection query, which nests deeper than
 * MAX_QUERY_DEPTH allows. Give it only when introspection is allowed. GraphiQL 4 takes only a
 * GraphQLSchema built by its own copy of graphql-js (exposed as GraphiQL.GraphQL).
 */
export function graphiqlPage(examples: readonly ExampleOperation[], banner: string, schema?: IntrospectionQuery): string {
  const tabs = examples.map((e) => ({
    query: e.query,
    ...(e.variables ? { variables: JSON.stringify(e.variables, null, 2) } : {}),
    ...(e.headers ? { headers: JSON.stringify(e.headers, null, 2) } : {}),
  }));
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Attributes subgraph · GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.css">
  <style>
    html, body { height: 100%; margin: 0; }
    body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
    #banner { padding: 6px 12px; font-size: 13px; background: #fff4ce; border-bottom: 1px solid #e6d48a; }
    #graphiql { flex: 1; min-height: 0; }
  </style>
</head>
<body>
  ${banner ? `<div id="banner">${escapeHtml(banner)}</div>` : ""}
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/" });
    const tabs = ${inlineJson(tabs)};
    // GraphiQL 4 opens the first default tab with its query but without its variables; on a first
    // visit (no tabs stored yet) they are handed over as the initial variables. Later visits
    // restore the tabs GraphiQL stored itself. test/e2e/graphiql.e2e.test.ts runs that first tab.
    const firstVisit = window.localStorage.getItem("graphiql:tabState") === null;
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, Object.assign({
      fetcher,
      defaultEditorToolsVisibility: true,
      defaultTabs: tabs,
    }, ${schema ? `{ schema: GraphiQL.GraphQL.buildClientSchema(${inlineJson(schema)}) }, ` : ""}firstVisit && tabs.length > 0 && tabs[0].variables ? { variables: tabs[0].variables } : {})));
  </script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
