import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Only what this file reads from Node's `process` (the project does not need @types/node).
declare const process: { env: Record<string, string | undefined> };

// The API serves the built app from Downloads.Api/wwwroot. In development Vite serves it and
// forwards the service's paths to the API (default http://localhost:3000, or DOWNLOADS_API_URL).
// The proxy keeps the Host header, so the absolute URLs the API returns point back here.
const api = process.env.DOWNLOADS_API_URL || 'http://localhost:3000';

// The app is the first user of @downloads/client (packages/downloads-client): it builds from the package's
// sources, so a change there is in the next build of the page without packing the package first.
const packageSource = (file: string) => new URL(`./packages/downloads-client/src/${file}`, import.meta.url).pathname;

export default defineConfig({
  base: '/',
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^@downloads\/client$/, replacement: packageSource('index.ts') },
      { find: /^@downloads\/client\/react$/, replacement: packageSource('react.ts') },
    ],
  },
  build: {
    outDir: '../Downloads.Api/wwwroot',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/v1': { target: api },
      '/ws': { target: api, ws: true },
      '/health': { target: api },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
});
