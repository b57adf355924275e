/** Cascade on AWS: the CDK construct, the ready stack and how an app folder is read. */
export * from "./activity-access.ts";
export * from "./bundle.ts";
export * from "./cascade-app.ts";
export * from "./cascade-stack.ts";
export * from "./model.ts";
export * from "./observability.ts";
export * from "./workflows.ts";
