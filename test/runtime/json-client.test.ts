/** The lean JSON client's error handling, against a real local HTTP server that misbehaves on purpose. */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { AwsJsonClient, AwsJsonError, MAX_ATTEMPTS } from "../../lib/adapters/aws/json-client.ts";

type Reply = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let reply: Reply = (_req, _body, res) => res.end("{}");
const requests: { target: string; auth: string; body: string }[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => {
    body += chunk.toString("utf8");
  });
  req.on("end", () => {
    requests.push({
      target: String(req.headers["x-amz-target"]),
      auth: String(req.headers.authorization),
      body,
    });
    reply(req, body, res);
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const port = (server.address() as AddressInfo).port;

const client = new AwsJsonClient(
  {
    config: {
      credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
      region: async () => "eu-west-1",
    },
  },
  {
    service: "dynamodb",
    targetPrefix: "DynamoDB_20120810",
    operations: new Map([[PutItemCommand, "PutItem"]]),
    endpoint: `http://127.0.0.1:${port}`,
  },
);
after(() => client.destroy());
const put = () => client.send(new PutItemCommand({ TableName: "tbl", Item: { pk: { S: "a" } } }));

test("a command is one signed POST of its input; the output is the parsed answer", async () => {
  requests.length = 0;
  reply = (_req, _body, res) => res.end(JSON.stringify({ Attributes: { pk: { S: "a" } } }));
  const seen: string[] = [];
  client.observe((operation) => seen.push(operation));
  assert.deepEqual(await put(), { Attributes: { pk: { S: "a" } } });
  assert.equal(requests.length, 1);
  assert.equal(requests[0]?.target, "DynamoDB_20120810.PutItem");
  assert.match(
    requests[0]?.auth ?? "",
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
  );
  assert.deepEqual(JSON.parse(requests[0]?.body ?? ""), {
    TableName: "tbl",
    Item: { pk: { S: "a" } },
  });
  assert.deepEqual(seen, ["PutItem"]);
});

test("a service error keeps the SDK's name and is not retried", async () => {
  requests.length = 0;
  reply = (_req, _body, res) => {
    res.statusCode = 400;
    res.end(
      JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        message: "The conditional request failed",
      }),
    );
  };
  await assert.rejects(put(), (error: unknown) => {
    assert.ok(error instanceof AwsJsonError);
    assert.equal(error.name, "ConditionalCheckFailedException");
    assert.equal(error.message, "The conditional request failed");
    assert.equal(error.statusCode, 400);
    return true;
  });
  assert.equal(requests.length, 1);
});

test("throttling and 5xx are retried, up to the attempt limit", async () => {
  requests.length = 0;
  let n = 0;
  reply = (_req, _body, res) => {
    n++;
    if (n === 1) {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: "ThrottlingException", message: "slow down" }));
    } else if (n === 2) {
      res.statusCode = 503;
      res.end("Service Unavailable");
    } else res.end("{}");
  };
  assert.deepEqual(await put(), {});
  assert.equal(requests.length, 3);

  requests.length = 0;
  reply = (_req, _body, res) => {
    res.statusCode = 500;
    res.end(JSON.stringify({ __type: "InternalServerError", message: "boom" }));
  };
  await assert.rejects(put(), { name: "InternalServerError" });
  assert.equal(requests.length, MAX_ATTEMPTS);
});

test("a reset connection is retried; a command the client does not know is refused", async () => {
  requests.length = 0;
  let n = 0;
  reply = (req, _body, res) => {
    n++;
    if (n === 1) req.socket.destroy();
    else res.end("{}");
  };
  assert.deepEqual(await put(), {});
  assert.equal(requests.length, 2);
  await assert.rejects(
    client.send(new GetItemCommand({ TableName: "tbl", Key: { pk: { S: "a" } } })),
    /no JSON operation for GetItemCommand/,
  );
});
