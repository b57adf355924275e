/**
 * `CascadeStack`: a ready stack holding one `CascadeApp`, in cascade.yaml's
 * `platform.region` when it names one, otherwise environment-agnostic; no account or
 * region lookups either way, so `cdk synth` runs offline.
 */
import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { CascadeApp, type CascadeAppProps } from "./cascade-app.ts";
import { checkPlatformRegion } from "./platform-region.ts";

/** Props of {@link CascadeStack}: the stack's own plus the app's. */
export interface CascadeStackProps extends StackProps, CascadeAppProps {}

/** One Cascade app in its own stack, with its API URL, table and queues as outputs. */
export class CascadeStack extends Stack {
  readonly app: CascadeApp;

  constructor(scope: Construct, id: string, props: CascadeStackProps) {
    const region = props.app.config.platform.region;
    super(scope, id, {
      description: `Cascade app ${props.app.config.name}: workflows on Lambda, SQS, DynamoDB and S3`,
      // platform.region: the stack deploys there (the account stays the CLI's: nothing is looked up).
      ...(region === undefined || props.env !== undefined ? {} : { env: { region } }),
      ...props,
    });
    checkPlatformRegion(this, props.app.config);
    this.app = new CascadeApp(this, "Cascade", props);
    new CfnOutput(this, "ApiUrl", {
      value: this.app.httpApi.apiEndpoint,
      description: "The HTTP API: cascade process ... --endpoint <this>",
    });
    new CfnOutput(this, "TableName", { value: this.app.table.tableName });
    new CfnOutput(this, "TransitionQueueUrl", { value: this.app.transitions.queue.queueUrl });
    new CfnOutput(this, "PayloadBucket", { value: this.app.bucket.bucketName });
    new CfnOutput(this, "DashboardName", { value: this.app.dashboard.dashboardName });
    new CfnOutput(this, "AlarmTopicArn", {
      value: this.app.alarmTopic.topicArn,
      description: "Every alarm publishes here: subscribe an email, a chat hook or a pager",
    });
  }
}

/** The stack's id for an app: `Cascade-<app name>`. */
export function stackIdFor(appName: string): string {
  return `Cascade-${appName}`;
}
