/** Cold-start secrets: ENV.SECRETS read all at once into the environment, over Secrets Manager's and SSM's JSON 1.1 protocol. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  awsSecretReader,
  loadSecrets,
  SecretsError,
  secretsOf,
} from "../../lib/adapters/aws/secrets.ts";
import { ENV } from "../../lib/manifest/index.ts";

const credentials = {
  config: {
    credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
    region: async () => "eu-west-1",
  },
};

test("every secret is read into its variable, before anything else needs it", async () => {
  const env = {
    [ENV.SECRETS]: JSON.stringify({ STRIPE_KEY: "secretsmanager:prod/stripe", TOKEN: "ssm:/t" }),
  };
  const target: Record<string, string | undefined> = {};
  const names = await loadSecrets(env, async (ref) => `${ref.source}=${ref.id}`, target);
  assert.deepEqual(names, ["STRIPE_KEY", "TOKEN"]);
  assert.deepEqual(target, { STRIPE_KEY: "secretsmanager=prod/stripe", TOKEN: "ssm=/t" });
  assert.deepEqual(await loadSecrets({}, async () => "never", target), []);
});

test("secrets that cannot be read are all named, and the function does not start", async () => {
  const env = {
    [ENV.SECRETS]: JSON.stringify({ A: "ssm:/a", B: "ssm:/b", C: "ssm:/c" }),
  };
  await assert.rejects(
    loadSecrets(
      env,
      async (ref) => {
        if (ref.id === "/b") return "fine";
        throw Object.assign(new Error(`no ${ref.id}`), { name: "ParameterNotFound" });
      },
      {},
    ),
    (error: unknown) =>
      error instanceof SecretsError &&
      error.problems.length === 2 &&
      /A from ssm:\/a: ParameterNotFound: no \/a/.test(error.message) &&
      /C from ssm:\/c/.test(error.message),
  );
  assert.throws(() => secretsOf({ [ENV.SECRETS]: "{" }), SecretsError);
  assert.throws(() => secretsOf({ [ENV.SECRETS]: '{"A":"env:X"}' }), /A: "env:X" is not/);
});

test("the AWS reader signs GetSecretValue and GetParameter, picks a JSON key, decodes binary", async () => {
  const calls: { target: string; type: string; body: Record<string, unknown>; auth: string }[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      calls.push({
        target: String(req.headers["x-amz-target"]),
        type: String(req.headers["content-type"]),
        body,
        auth: String(req.headers.authorization),
      });
      res.setHeader("content-type", "application/x-amz-json-1.1");
      const answer =
        body.Name === "/shop/token"
          ? { Parameter: { Value: "tok" } }
          : body.SecretId === "db"
            ? { SecretString: JSON.stringify({ username: "app", password: "pw" }) }
            : body.SecretId === "bin"
              ? { SecretBinary: Buffer.from("raw bytes").toString("base64") }
              : undefined;
      if (answer) res.end(JSON.stringify(answer));
      else {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "nope" }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const read = awsSecretReader(credentials, { secretsmanager: url, ssm: url });
    assert.equal(await read({ source: "ssm", id: "/shop/token" }), "tok");
    assert.equal(await read({ source: "secretsmanager", id: "db", jsonKey: "password" }), "pw");
    assert.equal(await read({ source: "secretsmanager", id: "bin" }), "raw bytes");
    await assert.rejects(
      read({ source: "secretsmanager", id: "db", jsonKey: "host" }),
      /no key 'host'/,
    );
    await assert.rejects(read({ source: "secretsmanager", id: "gone" }), {
      name: "ResourceNotFoundException",
    });
    assert.deepEqual(
      calls.slice(0, 2).map((c) => [c.target, c.type, c.body]),
      [
        [
          "AmazonSSM.GetParameter",
          "application/x-amz-json-1.1",
          { Name: "/shop/token", WithDecryption: true },
        ],
        ["secretsmanager.GetSecretValue", "application/x-amz-json-1.1", { SecretId: "db" }],
      ],
    );
    assert.match(
      calls[0]?.auth ?? "",
      /Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ssm\/aws4_request/,
    );
    assert.match(calls[1]?.auth ?? "", /\/eu-west-1\/secretsmanager\/aws4_request/);
  } finally {
    server.close();
  }
});
