// The typed SDK as the dashboard uses it: the browser-safe surface of @icrl-lab/client (no outbox,
// no file system).
export { createClient, IcrlApiError, IcrlNetworkError, type IcrlClient } from "../../../client-sdk/src/browser.js";
export * from "../../../client-sdk/src/browser.js";
