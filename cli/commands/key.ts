// `icrl key create|list|revoke`: API keys for people (ADMIN, MEMBER) and for workers (WORKER), so no
// one has to write a GraphQL mutation to let a worker in.
import { type Command, InvalidArgumentError } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

const ROLES = ["ADMIN", "MEMBER", "WORKER"] as const;
type Role = (typeof ROLES)[number];

function role(value: string): Role {
  const upper = value.toUpperCase();
  if (!(ROLES as readonly string[]).includes(upper)) throw new InvalidArgumentError("--role must be ADMIN, MEMBER or WORKER");
  return upper as Role;
}

export function register(program: Command): void {
  const key = commandGroup(program, "key", "create, list and revoke API keys (admin only)");

  withConnection(
    key
      .command("create")
      .description("create an API key and print its secret (shown once: store it now)")
      .requiredOption("--name <name>", "what the key is for, e.g. gpu-box-1")
      .requiredOption("--role <role>", "ADMIN, MEMBER or WORKER (WORKER keys let `icrl worker` register)", role),
  ).action(
    clientAction<ConnectionOptions & { name: string; role: Role }>(async (client, opts) => {
      const { CreateApiKeyDocument } = await import("../../client-sdk/src/index.js");
      const { printJson, keyValues } = await import("../support/output.js");
      const created = (await client.mutate(CreateApiKeyDocument, { name: opts.name, role: opts.role })).createApiKey;
      if (opts.json) return printJson(created);
      process.stdout.write(
        keyValues([
          ["id", created.apiKey.id],
          ["name", created.apiKey.name],
          ["role", created.apiKey.role],
          ["secret (shown once)", created.secret],
        ]),
      );
    }),
  );

  withConnection(key.command("list").description("list API keys (secrets are never shown again)").option("--all", "include revoked keys")).action(
    clientAction<ConnectionOptions & { all?: boolean }>(async (client, opts) => {
      const { ApiKeysDocument } = await import("../../client-sdk/src/index.js");
      const { printJson, table, formatTime } = await import("../support/output.js");
      const { styleFor } = await import("../support/style.js");
      const keys = (await client.query(ApiKeysDocument, {})).apiKeys.filter((k) => opts.all || !k.revokedAt);
      if (opts.json) return printJson(keys);
      const style = styleFor();
      process.stdout.write(
        table(
          [
            { header: "ID", value: (k) => style.dim(k.id) },
            { header: "NAME", value: (k) => (k.revokedAt ? `${k.name} ${style.dim("(revoked)")}` : style.bold(k.name)) },
            { header: "ROLE", value: (k) => k.role },
            { header: "PREFIX", value: (k) => k.prefix },
            { header: "CREATED", value: (k) => formatTime(k.createdAt) },
            { header: "LAST USED", value: (k) => formatTime(k.lastUsedAt) },
          ],
          keys,
        ),
      );
    }),
  );

  withConnection(
    key.command("revoke").description("revoke an API key: it stops working at once").argument("<id>", "key id (see icrl key list)"),
  ).action(
    clientAction(async (client, opts, [id]) => {
      const { RevokeApiKeyDocument } = await import("../../client-sdk/src/index.js");
      const { printJson } = await import("../support/output.js");
      const revoked = (await client.mutate(RevokeApiKeyDocument, { id: id as string })).revokeApiKey;
      if (opts.json) return printJson(revoked);
      process.stdout.write(`revoked ${revoked.id} (${revoked.name}, ${revoked.role})\n`);
    }),
  );
}
