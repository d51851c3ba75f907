// Where the real service runs, and what a whole followed job looks like.
import { expect } from 'vitest';
import type { JobEvent } from '../src';

declare const process: { env: Record<string, string | undefined> };

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through Downloads.Tests (TypeScriptClientTests), or start the service and set it.`);
  return value;
}

/** The service under test (in memory, short files). */
export const serviceUrl = (): string => required('DOWNLOADS_URL');

/** The same service whose hub paths (/ws) answer 503, as behind a proxy that does not route them. */
export const hubBlockedServiceUrl = (): string => required('DOWNLOADS_HUB_BLOCKED_URL');

/** Two API nodes of one Redis deployment (a worker beside them runs the jobs): a job started on one is followed on the other. */
export function redisApiUrls(): [string, string] {
  const urls = required('DOWNLOADS_REDIS_API_URLS').split(/\s+/).filter(Boolean);
  if (urls.length !== 2) throw new Error(`DOWNLOADS_REDIS_API_URLS should name two API nodes, not: ${urls.join(' ')}`);
  return [urls[0], urls[1]];
}

/** File ids that exist in the synthetic storage (id % 7 == 0). */
export function existingFiles(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 70_000 + 7 * i);
}

/** A snapshot, or a terminal event with every result: either stands for the whole state. */
function isWholeState(event: JobEvent): boolean {
  return event.type === 'snapshot' || (['completed', 'failed', 'cancelled'].includes(event.status) && Array.isArray(event.results));
}

/** Snapshot first; each next event is seq + 1, or the whole state (a re-sync); ends with a terminal status. */
export function expectWhole(events: readonly JobEvent[], status: JobEvent['status'] = 'completed'): void {
  expect(events.length).toBeGreaterThan(0);
  expect(events[0].type).toBe('snapshot');
  const breaks = events
    .slice(1)
    .map((event, i) => ({ from: events[i].seq, to: event.seq, whole: isWholeState(event) }))
    .filter((step) => step.to !== step.from + 1 && !step.whole);
  expect(breaks).toEqual([]);
  const seqs = events.map((e) => e.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(events.at(-1)!.status).toBe(status);
}

export async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const all: JobEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}
