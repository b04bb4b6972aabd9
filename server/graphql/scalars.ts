// Scalars: DateTime as ISO-8601 strings, JSON as-is, BigInt as decimal strings (exact in JS clients).
import { GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { apiError } from "../errors.js";

export const DateTime = new GraphQLScalarType({
  name: "DateTime",
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v as string).toISOString()),
  parseValue: (v) => {
    const d = new Date(v as string);
    if (typeof v !== "string" || Number.isNaN(d.getTime()))
      throw apiError("BAD_USER_INPUT", `Expected an ISO-8601 date-time, got ${JSON.stringify(v)}.`);
    return d;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw apiError("BAD_USER_INPUT", "DateTime literals must be strings.");
    return new Date(ast.value);
  },
});

function literalToJs(ast: ValueNode, variables?: Record<string, unknown> | null): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJs(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJs(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      return undefined;
  }
}

export const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (ast, variables) => literalToJs(ast, variables),
});

export const BigIntScalar = new GraphQLScalarType({
  name: "BigInt",
  serialize: (v) => String(v),
  parseValue: (v) => {
    if ((typeof v !== "string" && typeof v !== "number") || !/^-?\d+$/.test(String(v))) {
      throw apiError("BAD_USER_INPUT", `Expected an integer cursor (string of digits), got ${JSON.stringify(v)}.`);
    }
    return BigInt(v);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING && ast.kind !== Kind.INT) throw apiError("BAD_USER_INPUT", "BigInt literals must be integers or strings of digits.");
    return BigInt(ast.value);
  },
});
