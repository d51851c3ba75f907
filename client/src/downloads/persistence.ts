// Tracked jobs survive a refresh and are shared between tabs through localStorage.
import { statusUrlFor, toLocalUrl } from './api';

export const STORAGE_KEY = 'downloads.jobs';
const MAX_ENTRIES = 50;

export interface TrackedJob {
  job_id: string;
  status_url: string;
  /** Local time the job was started or first seen, ms. */
  added_at: number;
  /** The job's access token, kept with it: it opens the job's routes where the service requires API keys. */
  access_token?: string;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID.test(value);
}

/** Reads the tracked jobs; tolerates a missing, corrupt or older (plain id list) value. */
export function parseTrackedJobs(raw: string | null): TrackedJob[] {
  if (!raw) return [];
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: TrackedJob[] = [];
  const seen = new Set<string>();
  for (const item of data) {
    const entry: Partial<TrackedJob> =
      typeof item === 'string' ? { job_id: item } : item && typeof item === 'object' ? (item as Partial<TrackedJob>) : {};
    const id = entry.job_id;
    if (!isJobId(id) || seen.has(id.toLowerCase())) continue;
    seen.add(id.toLowerCase());
    out.push({
      job_id: id.toLowerCase(),
      status_url: typeof entry.status_url === 'string' && entry.status_url ? toLocalUrl(entry.status_url) : statusUrlFor(id.toLowerCase()),
      added_at: typeof entry.added_at === 'number' && Number.isFinite(entry.added_at) ? entry.added_at : 0,
      ...(typeof entry.access_token === 'string' && entry.access_token ? { access_token: entry.access_token } : {}),
    });
  }
  return out;
}

export function loadTrackedJobs(storage: StorageLike | null): TrackedJob[] {
  if (!storage) return [];
  try {
    return parseTrackedJobs(storage.getItem(STORAGE_KEY));
  } catch {
    return [];
  }
}

export function saveTrackedJobs(storage: StorageLike | null, jobs: readonly TrackedJob[]): void {
  if (!storage) return;
  // Newest kept when the list is long.
  const list = [...jobs].sort((a, b) => b.added_at - a.added_at).slice(0, MAX_ENTRIES);
  try {
    if (list.length) storage.setItem(STORAGE_KEY, JSON.stringify(list));
    else storage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode or quota: the jobs are simply not remembered.
  }
}
