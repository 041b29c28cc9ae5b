import { MAX_BATCH_IDS, resourceIdProblem } from '../../src/core/protocol';
import { badField } from './request-error';

/** Client ids and tokens are random strings; anything longer than this is not one. */
const MAX_ID_LENGTH = 200;

/** A required random id (`clientId`, `token`): a non-empty string of at most 200 characters. */
export function requiredId(body: Record<string, unknown>, field: string): string {
  return checkId(field, body[field]);
}

/** An optional `token`: absent is fine, anything but a non-empty string is a 400. */
export function optionalId(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  return value === undefined ? undefined : checkId(field, value);
}

/** `expectedFence`: the fence the user saw, a non-negative integer (0 for a never-held resource). */
export function expectedFence(body: Record<string, unknown>): number {
  const value = body.expectedFence;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badField('expectedFence', 'must be a non-negative integer');
  }
  return value;
}

/** `?clientId=` on a status GET: optional, but not empty when given. */
export function queryClientId(params: URLSearchParams): string | undefined {
  const value = params.get('clientId');
  return value === null ? undefined : checkId('clientId', value);
}

/** `?ids=a&ids=b`: 1 to 100 valid resource ids. */
export function queryIds(params: URLSearchParams): string[] {
  const ids = params.getAll('ids');
  if (ids.length === 0) throw badField('ids', 'must name at least one resource (?ids=a&ids=b)');
  if (ids.length > MAX_BATCH_IDS) {
    throw badField('ids', `must name at most ${MAX_BATCH_IDS} resources`);
  }
  for (const id of ids) {
    const problem = resourceIdProblem(id);
    if (problem) throw badField('ids', `holds an id that ${problem}`);
  }
  return ids;
}

function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw badField(field, 'must be a non-empty string');
  }
  if (value.length > MAX_ID_LENGTH) {
    throw badField(field, `must be at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}
