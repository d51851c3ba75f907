// What a follower knows of a job, folded from the events it passed on (see sequence.ts).
import { isTerminal, type FileResult, type JobEvent, type JobStatusValue } from './types.js';

/** Where a job's live updates come from. `Polling` is the fallback while the hub cannot be reached. */
export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling' | 'EventStream' | 'Polling';

export interface JobState {
  jobId: string;
  status: JobStatusValue;
  /** Last seq applied; 0 before the first snapshot. */
  seq: number;
  completed: number;
  failed: number;
  total: number;
  /** 0..100, never decreases. */
  percent: number;
  currentFile: number | null;
  /** In `file_ids` order once a snapshot arrived. */
  results: FileResult[];
  /** The job has ended (completed, failed or cancelled): no further update comes. */
  ended: boolean;
  /** The transport that delivered the last update. */
  transport: TransportName | null;
  /** Why following stopped early (unknown job, refused credentials), else null. */
  error: Error | null;
}

export function initialJobState(jobId: string, total = 0): JobState {
  return {
    jobId,
    status: 'queued',
    seq: 0,
    completed: 0,
    failed: 0,
    total,
    percent: 0,
    currentFile: null,
    results: [],
    ended: false,
    transport: null,
    error: null,
  };
}

function mergeFile(results: FileResult[], file: FileResult): FileResult[] {
  const index = results.findIndex((r) => r.file_id === file.file_id);
  if (index < 0) return [...results, file];
  const next = results.slice();
  next[index] = { ...results[index], ...file };
  return next;
}

/** Folds one event that the sequence rules accepted. */
export function applyEvent(state: JobState, event: JobEvent): JobState {
  const results = Array.isArray(event.results) ? event.results : event.file ? mergeFile(state.results, event.file) : state.results;
  const percent = Number.isFinite(event.progress_percent) ? Math.min(100, Math.max(0, event.progress_percent)) : 0;
  return {
    ...state,
    status: event.status,
    seq: event.seq,
    completed: event.completed,
    failed: event.failed,
    total: event.total,
    percent: Math.max(state.percent, percent),
    currentFile: event.current_file ?? null,
    results,
    ended: isTerminal(event.status),
  };
}
