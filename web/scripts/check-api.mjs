// Fails when src/api/schema.d.ts is not what openapi-typescript makes of web/openapi.json (run `npm run gen:api`).
// web/openapi.json itself is checked against the Python code by tests/unit/test_docs.py.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "crm-api-"));
try {
  const fresh = join(dir, "schema.d.ts");
  execFileSync(resolve(web, "node_modules/.bin/openapi-typescript"), ["openapi.json", "-o", fresh], {
    cwd: web,
    stdio: "ignore",
  });
  const committed = readFileSync(resolve(web, "src/api/schema.d.ts"), "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error("src/api/schema.d.ts is out of date with openapi.json: run `npm run gen:api` and commit both");
    process.exit(1);
  }
  console.log("✔ src/api/schema.d.ts matches openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
