import { defineConfig } from 'vitest/config';

/**
 * Three projects:
 * - unit:        pure logic beside the code (src/**\/*.test.ts), no services;
 * - standalone:  everything under test/ against a real standalone redis-server;
 * - cluster:     the same files against a real 3-master Redis Cluster.
 * Each project's global setup starts its own Redis on free ports and stops it afterwards.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'standalone',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-standalone.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-cluster.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
