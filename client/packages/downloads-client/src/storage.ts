// The tracked jobs kept in storage (localStorage in browsers): they survive a reload and are shared between tabs.
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface StoredJob {
  job_id: string;
  /** Local time the job was started or first seen here, ms. */
  added_at: number;
  /** The job's access token: it opens the job's routes where the service requires API keys. */
  access_token?: string;
}

export const DEFAULT_STORAGE_KEY = 'downloads-client.jobs';
const MAX_STORED = 100;
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID.test(value);
}

/** Reads a stored list; tolerates a missing or corrupt value, plain id lists, duplicates and extra fields. */
export function parseStoredJobs(raw: string | null): StoredJob[] {
  let data: unknown;
  try {
    data = JSON.parse(raw ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: StoredJob[] = [];
  const seen = new Set<string>();
  for (const item of data) {
    const entry: Partial<StoredJob> = typeof item === 'string' ? { job_id: item } : item && typeof item === 'object' ? (item as Partial<StoredJob>) : {};
    if (!isJobId(entry.job_id) || seen.has(entry.job_id.toLowerCase())) continue;
    const jobId = entry.job_id.toLowerCase();
    seen.add(jobId);
    out.push({
      job_id: jobId,
      added_at: typeof entry.added_at === 'number' && Number.isFinite(entry.added_at) ? entry.added_at : 0,
      ...(typeof entry.access_token === 'string' && entry.access_token ? { access_token: entry.access_token } : {}),
    });
  }
  return out;
}

export function loadStoredJobs(storage: StorageLike | null, key: string): StoredJob[] {
  try {
    return storage ? parseStoredJobs(storage.getItem(key)) : [];
  } catch {
    return [];
  }
}

export function saveStoredJobs(storage: StorageLike | null, key: string, jobs: readonly StoredJob[]): void {
  if (!storage) return;
  // The newest are kept when the list is long.
  const list = [...jobs].sort((a, b) => b.added_at - a.added_at).slice(0, MAX_STORED);
  try {
    if (list.length) storage.setItem(key, JSON.stringify(list));
    else storage.removeItem(key);
  } catch {
    // Private mode or a full quota: the jobs are still followed, only not recovered after a reload.
  }
}

/** `localStorage` where there is one (and it may be used), else null. */
export function defaultStorage(): StorageLike | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
