import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { ensureTable, localClient } from '../../local/dynamodb-local.js';
import { DynamoStore } from '../../functions/store/dynamo-store.js';

/** A fresh table in the run's DynamoDB Local, so test files never see each other's data. */
export async function freshStore(prefix = 'test'): Promise<DynamoStore> {
  const endpoint = inject('dynamodbEndpoint');
  const name = `${prefix}-${randomBytes(6).toString('hex')}`;
  const client = localClient(endpoint);
  await ensureTable(client, name);
  return new DynamoStore(name, client);
}
