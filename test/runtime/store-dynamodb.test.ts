/** The store contract against the real DynamoDB adapter on dynalite: through the SDK client and through the lean JSON client. */
import { DynamoDbExecutionStore } from "../../lib/adapters/aws/dynamodb-store.ts";
import { useEmulators } from "../support/emulators.ts";
import { storeContract } from "./store.contract.ts";

const env = useEmulators("store-contract");
storeContract(
  "DynamoDbExecutionStore",
  () => new DynamoDbExecutionStore(env.clients.dynamodb, env.provisioned.table),
);
storeContract(
  "DynamoDbExecutionStore (lean JSON client)",
  () => new DynamoDbExecutionStore(env.clients.lean.dynamodb, env.provisioned.table),
);
