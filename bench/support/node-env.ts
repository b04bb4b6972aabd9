// Imported first by benchmarks that measure the server as `icrl server` runs it: bin/icrl.js
// defaults NODE_ENV to "production" before graphql is loaded (graphql-js decides once, at import,
// whether to run its development-only checks), so this does the same. An explicit NODE_ENV wins,
// e.g. `NODE_ENV=development npm run bench -- series` to measure the difference.
process.env.NODE_ENV ??= "production";
