/** Jest's settings for kit.jest.spec.ts (test/testing/runners.test.ts). */
module.exports = {
  rootDir: __dirname,
  testMatch: ["<rootDir>/kit.jest.spec.ts"],
  extensionsToTreatAsEsm: [".ts"],
  transform: { "\\.ts$": "<rootDir>/strip-types.cjs" },
  testEnvironment: "node",
};
