// The walls between the parts (ARCHITECTURE.md, "Import rules"), checked in `npm test` by
// dependency-cruiser. Each rule names the arrow it forbids; a forbidden import fails the suite.
const PARTS = "^(contracts|client-sdk|server|worker|cli|dashboard|bench|test|examples|scripts)/";
const SDK_DEPENDENCIES = "^(zod|graphql|graphql-ws|ws|@graphql-typed-document-node/core)$";

/** Files of a part other than its public entry files. */
const internalsOf = (part, entries) => ({ path: `^${part}/`, pathNot: `^${part}/(${entries.join("|")})$` });

module.exports = {
  forbidden: [
    {
      name: "contracts-stand-alone",
      comment: "contracts/ is the shared vocabulary: zod schemas and types only, importing nothing of the parts.",
      severity: "error",
      from: { path: "^contracts/" },
      to: { path: PARTS, pathNot: "^contracts/" },
    },
    {
      name: "contracts-only-zod",
      comment: "contracts/ depends on zod and nothing else.",
      severity: "error",
      from: { path: "^contracts/" },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown", "core"], pathNot: "node_modules/zod/" },
    },
    {
      name: "sdk-is-standalone",
      comment: "@icrl-lab/client ships alone: it may use contracts/ (bundled in) but nothing of server, worker, cli or dashboard.",
      severity: "error",
      from: { path: "^client-sdk/" },
      to: { path: PARTS, pathNot: "^(client-sdk|contracts)/" },
    },
    {
      name: "sdk-dependencies",
      comment: "The SDK's npm dependencies are exactly those in client-sdk/package.json.",
      severity: "error",
      from: { path: "^client-sdk/src/" },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"],
        pathNot: `node_modules/${SDK_DEPENDENCIES.slice(1, -1)}/`,
      },
    },
    {
      name: "server-knows-no-clients",
      comment: "The server serves the API; it never imports the worker, the SDK, the CLI or the dashboard.",
      severity: "error",
      from: { path: "^server/" },
      to: { path: "^(worker|client-sdk|cli|dashboard|bench|examples)/" },
    },
    {
      name: "resolvers-do-not-import-each-other",
      comment: "Resolvers are thin; what two of them share lives in server/store (or ingest, jobs, events).",
      severity: "error",
      from: { path: "^server/graphql/resolvers/([^/]+)\\.ts$" },
      to: { path: "^server/graphql/resolvers/", pathNot: ["^server/graphql/resolvers/$1\\.ts$", "^server/graphql/resolvers/index\\.ts$"] },
    },
    {
      name: "worker-talks-through-the-api",
      comment: "The worker reaches the server only over GraphQL (through the SDK); it never imports server, cli or dashboard code.",
      severity: "error",
      from: { path: "^worker/" },
      to: { path: "^(server|cli|dashboard|bench|examples)/" },
    },
    {
      name: "sdk-through-its-entry",
      comment: "Outside the SDK, import @icrl-lab/client through client-sdk/src/index.ts (or browser.ts), never its files.",
      severity: "error",
      from: { path: "^(worker|cli|bench|dashboard|server)/" },
      to: internalsOf("client-sdk", ["src/index\\.ts", "src/browser\\.ts"]),
    },
    {
      name: "contracts-through-its-entry",
      comment: "Outside contracts/, import the contracts through contracts/index.ts.",
      severity: "error",
      from: { path: "^(client-sdk|worker|server|cli|bench|dashboard)/" },
      to: internalsOf("contracts", ["index\\.ts"]),
    },
    {
      name: "cli-uses-public-surfaces",
      comment: "cli/ composes the parts through their public entries only.",
      severity: "error",
      from: { path: "^cli/" },
      to: {
        path: "^(server|worker)/",
        pathNot: ["^server/index\\.ts$", "^worker/index\\.ts$", "^worker/[a-z-]+/index\\.ts$", "^worker/engine/files\\.ts$", "^server/logger\\.ts$"],
      },
    },
    {
      name: "dashboard-is-a-browser-client",
      comment: "The dashboard runs in a browser: it uses the SDK's browser entry and the contracts, nothing else of the product.",
      severity: "error",
      from: { path: "^dashboard/src/" },
      to: { path: "^(server|worker|cli|bench)/" },
    },
    {
      name: "parts-never-import-tests-or-benches",
      severity: "error",
      from: { path: "^(contracts|client-sdk|server|worker|cli|dashboard)/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "no-cycles",
      comment: "A cycle makes load order matter and hides which part owns what.",
      severity: "error",
      from: { path: "^(contracts|client-sdk|server|worker|cli)/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["(^|/)generated/", "(^|/)dist/", "^worker/learner/icrl_learner/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".d.ts"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
