# shellcheck shell=bash
# The web app in web/ (React + Vite; see web/README.md): install its npm packages and build it into web/dist,
# which the gateway serves at /. Sourced by scripts/dev and scripts/test from the repository root.

WEB_BUILD_COMMAND="cd web && npm ci && npm run build"

# Vite needs Node 20.19 or later.
web_node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}

# npm ci when node_modules is missing or older than package-lock.json.
web_install() {
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "==> npm ci (web/)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Is any file of web/ (outside node_modules and dist) newer than the build?
web_build_stale() {
  [ -f web/dist/index.html ] || return 0
  [ -n "$(find web -path web/node_modules -prune -o -path web/dist -prune -o -type f -newer web/dist/index.html -print -quit)" ]
}

# Build web/dist when it is missing or older than the sources; without Node/npm, say how and go on.
web_build_if_stale() {
  [ -f web/package.json ] || return 0
  if ! web_node_ok; then
    echo "note: Node.js >= 20.19 and npm are needed to build the web app; the API runs without it" \
         "(install them, then: $WEB_BUILD_COMMAND)"
    return 0
  fi
  web_build_stale || return 0
  web_install
  echo "==> npm run build (web/)"
  (cd web && npm run build --silent)
}
