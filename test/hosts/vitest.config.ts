// `npm run test:hosts`: the multi-host test alone (root, network namespaces; see hosts.test.ts).
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: path.resolve(import.meta.dirname, '..', '..'),
    include: ['test/hosts/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});
