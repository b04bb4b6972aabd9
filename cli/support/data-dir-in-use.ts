// One message for "another server holds this data directory", shared by `icrl server` and the demo:
// embedded Postgres cannot serve two servers from one directory, and its own refusal names files and
// processes rather than what to do.
import type { OwnerRecord } from "../../server/index.js";
import { CliError, EXIT } from "./exit-codes.js";

export function dataDirInUse(dataDir: string, owner: Pick<OwnerRecord, "pid" | "since">): CliError {
  return new CliError(
    `data directory ${dataDir} is in use by another running server (pid ${owner.pid}, since ${owner.since}): stop that server or pass another --data-dir`,
    EXIT.DATA_DIR_IN_USE,
  );
}
