import * as ec2 from "aws-cdk-lib/aws-ec2";
import { CfnServerlessCache } from "aws-cdk-lib/aws-elasticache";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { LOG_RETENTION } from "./app-parts.ts";
import type { AppModel } from "./model.ts";

/** Redis/Valkey's port, which ElastiCache Serverless listens on (TLS). */
export const CACHE_PORT = 6379;

/** The cache, its VPC and the functions' security group; undefined when the cache is off. */
export function createCache(
  scope: Construct,
  config: AppModel["config"],
  ownVpc: ec2.IVpc | undefined,
):
  | {
      vpc: ec2.IVpc;
      cache: CfnServerlessCache;
      network: { vpc: ec2.IVpc; securityGroup: ec2.SecurityGroup };
    }
  | undefined {
  if (!config.cache.enabled) return undefined;
  // aws-cdk-lib's classes and interfaces disagree under exactOptionalPropertyTypes.
  const vpc: ec2.IVpc =
    ownVpc ??
    (new ec2.Vpc(scope, "Vpc", {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC },
        { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new LogGroup(scope, "VpcFlowLogs", { retention: LOG_RETENTION }),
          ),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    }) as ec2.IVpc);
  const ivpc = vpc;
  const securityGroup = new ec2.SecurityGroup(scope, "FunctionsSecurityGroup", {
    vpc: ivpc,
    description: "Cascade functions",
    allowAllOutbound: true,
  });
  const cacheGroup = new ec2.SecurityGroup(scope, "CacheSecurityGroup", {
    vpc: ivpc,
    description: "Cascade activity cache: reachable from the functions only",
    allowAllOutbound: false,
  });
  cacheGroup.addIngressRule(securityGroup, ec2.Port.tcp(CACHE_PORT), "functions to Valkey");
  const cache = new CfnServerlessCache(scope, "Cache", {
    engine: "valkey",
    majorEngineVersion: "8",
    serverlessCacheName: `${config.name}-cascade`,
    description: `Cascade activity cache of ${config.name}`,
    securityGroupIds: [cacheGroup.securityGroupId],
    subnetIds: vpc.privateSubnets.map((s) => s.subnetId),
    // cascade.yaml's cache.max_memory: past it, ElastiCache evicts (every entry has a TTL).
    ...(config.cache.maxMemoryGb === undefined
      ? {}
      : { cacheUsageLimits: { dataStorage: { maximum: config.cache.maxMemoryGb, unit: "GB" } } }),
  });
  return { vpc, cache, network: { vpc: ivpc, securityGroup } };
}
