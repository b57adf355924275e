import { MemoryExecutionStore } from "../../lib/adapters/memory/store.ts";
import { storeContract } from "./store.contract.ts";

storeContract("MemoryExecutionStore", () => new MemoryExecutionStore());
