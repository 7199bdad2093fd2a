import { defineConfig } from 'vitest/config';

// `npm test` runs all three projects. `it` starts real MariaDB/PostgreSQL servers (test/helpers/db-servers.ts).
export default defineConfig({
  test: {
    setupFiles: ['./lib/polyfills.ts'],
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000 } },
      { extends: true, test: { name: 'it', include: ['test/it/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 120_000 } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 120_000 } },
    ],
  },
});
