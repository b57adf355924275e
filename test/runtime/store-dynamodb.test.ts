/** The store contract against the real DynamoDB adapter on dynalite. */
import { DynamoDbExecutionStore } from "../../lib/adapters/aws/dynamodb-store.ts";
import { useEmulators } from "../support/emulators.ts";
import { storeContract } from "./store.contract.ts";

const env = useEmulators("store-contract");
storeContract(
  "DynamoDbExecutionStore",
  () => new DynamoDbExecutionStore(env.clients.dynamodb, env.provisioned.table),
);
