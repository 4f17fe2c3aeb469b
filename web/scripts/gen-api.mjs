// Regenerates web/openapi.json (from the Python code, `crm docs openapi`) and src/api/schema.d.ts (from it).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(web, "..");
const venvCrm = resolve(repo, ".venv/bin/crm");
const crm = process.env.CRM_BIN ?? (existsSync(venvCrm) ? venvCrm : "crm");
execFileSync(crm, ["docs", "openapi", "--output", resolve(web, "openapi.json")], { cwd: repo, stdio: "inherit" });
execFileSync(resolve(web, "node_modules/.bin/openapi-typescript"), ["openapi.json", "-o", "src/api/schema.d.ts"], {
  cwd: web,
  stdio: "inherit",
});
