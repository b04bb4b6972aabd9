// GraphQL Code Generator: resolver types for the server and typed documents for the SDK, both from
// schema.graphql, so no type is written twice by hand.
import type { CodegenConfig } from "@graphql-codegen/cli";

const scalars = {
  DateTime: { input: "string | Date", output: "Date | string" },
  JSON: "unknown",
  BigInt: { input: "string | number", output: "string" },
};

const config: CodegenConfig = {
  schema: "schema.graphql",
  generates: {
    "server/generated/graphql.ts": {
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        useIndexSignature: true,
        contextType: "../graphql/context.js#GraphQLContext",
        scalars,
        useTypeImports: true,
        emitLegacyCommonJSImports: false,
        // Resolvers may return database rows; field resolvers fill in the rest.
        defaultMapper: "Partial<{T}> | any",
        enumsAsTypes: true,
      },
    },
    "client-sdk/src/generated/": {
      preset: "client",
      documents: ["client-sdk/operations/**/*.graphql"],
      config: {
        scalars: {
          DateTime: "string",
          JSON: "unknown",
          BigInt: "string",
        },
        useTypeImports: true,
        emitLegacyCommonJSImports: false,
        enumsAsTypes: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
  ignoreNoDocuments: true,
};

export default config;
