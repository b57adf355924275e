/** Emulators for adapter tests: started in-process, once per test file. */
import { after, before } from "node:test";
import { type AwsClients, createAwsClients } from "../../lib/adapters/aws/clients.ts";
import {
  type Emulators,
  type Provisioned,
  provision,
  startEmulators,
} from "../../lib/local/emulators.ts";

/** Starts dynalite and fauxqs before the file's tests and stops them after. */
export function useEmulators(
  app = "contract",
  options: {
    workerRegions?: string[];
    visibilityTimeoutSeconds?: number;
    maxReceiveCount?: number;
  } = {},
) {
  const state: { emulators?: Emulators; clients?: AwsClients; provisioned?: Provisioned } = {};
  before(async () => {
    try {
      state.emulators = await startEmulators({ ephemeral: true });
    } catch (error) {
      throw new Error(
        `could not start the embedded emulators (dynalite, fauxqs): ${(error as Error).message}. They are devDependencies: run npm ci with Node 24 (node_modules/.bin/node).`,
        { cause: error },
      );
    }
    state.clients = createAwsClients({ endpoints: state.emulators.endpoints });
    state.provisioned = await provision(state.clients, app, options);
  });
  after(async () => {
    state.clients?.destroy();
    await state.emulators?.close();
  });
  return {
    get clients(): AwsClients {
      if (!state.clients) throw new Error("emulators not started");
      return state.clients;
    },
    get provisioned(): Provisioned {
      if (!state.provisioned) throw new Error("emulators not started");
      return state.provisioned;
    },
  };
}
