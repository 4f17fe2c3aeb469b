/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development `vite` serves the app and forwards the API to `crm dev` (the gateway) on port 8000.
const gateway = process.env.CRM_GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
      "/openapi.json": gateway,
      "/docs": gateway,
      "/health": gateway,
    },
  },
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "jsdom",
    globals: false,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    testTimeout: 30_000, // a shared 2-core machine: user-event typing is slow under load
  },
});
