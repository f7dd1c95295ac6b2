import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // test/hosts needs root and takes minutes: `npm run test:hosts`.
    exclude: ['node_modules/**', 'test/hosts/**'],
    // Suites that start real MariaDB/Redis servers take their time; nothing here asserts a speed.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Server-backed suites each start their own servers; keep them from competing for the 2 cores.
    fileParallelism: false,
  },
});
