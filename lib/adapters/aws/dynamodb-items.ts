/** The DynamoDB store's item helpers: attribute values, the step key's width, a query's page. */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";

export type Item = Record<string, AttributeValue>;
export type Client = Pick<DynamoDBClient, "send">;

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });

/** Steps are numbered with this many digits in their sort key (lexical order is step order). */
export const STEP_DIGITS = 10;

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error).name === "ConditionalCheckFailedException"
  );
}

/** One page of a query: the items' `d` records, and the key to go on from when there are more. */
export async function queryItems<T>(
  client: Client,
  table: string,
  input: Omit<QueryCommandInput, "TableName">,
): Promise<{ items: T[]; last?: Item }> {
  const result = await client.send(new QueryCommand({ TableName: table, ...input }));
  const items = (result.Items ?? []).flatMap((item) =>
    item.d?.S === undefined ? [] : [JSON.parse(item.d.S) as T],
  );
  return result.LastEvaluatedKey ? { items, last: result.LastEvaluatedKey } : { items };
}
