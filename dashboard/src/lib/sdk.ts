// The typed SDK as the dashboard uses it: the client and the generated documents, without the
// config validators (zod) that index.ts also exports, which the browser bundle does not need.
export { createClient, type IcrlClient } from "../../../client-sdk/client.js";
export { IcrlApiError, IcrlNetworkError } from "../../../client-sdk/errors.js";
export * from "../../../client-sdk/generated/graphql.js";
