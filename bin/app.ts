/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` from this repository deploy the
 * app folder named by the `appDir` context (`-c appDir=...`) or $CASCADE_APP_DIR,
 * default examples/order-processing. Environment-agnostic: nothing is looked up.
 */
import { App } from "aws-cdk-lib";
import { CascadeStack, readAppModel, stackIdFor } from "../lib/infra/index.ts";

const app = new App();
const context: unknown = app.node.tryGetContext("appDir");
const appDir =
  (typeof context === "string" && context) ||
  process.env.CASCADE_APP_DIR ||
  "examples/order-processing";
const model = await readAppModel(appDir);
const stackName: unknown = app.node.tryGetContext("stackName");
new CascadeStack(app, stackIdFor(model.config.name), {
  app: model,
  ...(typeof stackName === "string" && stackName ? { stackName } : {}),
});
app.synth();
