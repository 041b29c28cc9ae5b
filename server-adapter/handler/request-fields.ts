import { MAX_BATCH_IDS, randomIdProblem, resourceIdProblem } from '../../src/protocol/protocol';
import { badField } from './request-error';

/** A required random id (`clientId`, `token`): see `randomIdProblem`. */
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

/** An ask's `message`: absent, or a string (its length is the service's to check). */
export function optionalMessage(body: Record<string, unknown>): string | undefined {
  const value = body.message;
  if (value === undefined || typeof value === 'string') return value;
  throw badField('message', 'must be a string');
}

/** An ask's `renew`: absent, or a boolean. */
export function optionalRenew(body: Record<string, unknown>): boolean | undefined {
  const value = body.renew;
  if (value === undefined || typeof value === 'boolean') return value;
  throw badField('renew', 'must be true or false');
}

/** An answer's `answer`: `"hand-over"` or `"decline"`. */
export function answerChoice(body: Record<string, unknown>): 'hand-over' | 'decline' {
  const value = body.answer;
  if (value === 'hand-over' || value === 'decline') return value;
  throw badField('answer', 'must be "hand-over" or "decline"');
}

/** A release's `reason`: absent, or `"idle"` (the holder's tab idled out). */
export function releaseReason(body: Record<string, unknown>): 'idle' | undefined {
  const value = body.reason;
  if (value === undefined || value === 'idle') return value;
  throw badField('reason', 'must be "idle" when given');
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
  const problem = randomIdProblem(value);
  if (problem) throw badField(field, problem);
  return value as string;
}
