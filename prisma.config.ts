// Prisma CLI configuration. The datasource URL must not throw when DATABASE_URL is unset, or
// `prisma generate` (which needs no database) breaks on fresh machines.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/icrl" },
});
