import { defineConfig } from 'vitest/config';

declare const process: { env: Record<string, string | undefined> };

// The tests run against the real service: DOWNLOADS_URL (and DOWNLOADS_HUB_BLOCKED_URL, a service whose /ws
// paths are refused). Downloads.Tests/Clients/TypeScriptClientTests starts both and runs `npm test`.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One job at a time on a 2-core machine shared with the service.
    fileParallelism: false,
    // The hook tests run in happy-dom, on the service's origin like a page the service serves.
    environmentOptions: { happyDOM: { url: process.env.DOWNLOADS_URL ?? 'http://localhost:3000' } },
  },
});
