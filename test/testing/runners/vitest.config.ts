/** Vitest's settings for kit.spec.ts (test/testing/runners.test.ts). */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["kit.spec.ts"], environment: "node" },
});
