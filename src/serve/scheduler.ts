// Admission control in front of the executor: at most `concurrency` requests running, at most `maxQueue`
// waiting (more are shed with 503 + Retry-After), and a deadline per request from admission to answer.
import { unavailable } from './errors.ts';

/** Why a request was shed (the `reason` label of the metrics). */
export type ShedReason = 'queue_full' | 'deadline' | 'budget_store' | 'detect_store' | 'not_ready';

interface Job {
  work: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
  settled: boolean;
}

export class Scheduler {
  private running = 0;
  private readonly waiting: Job[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueue: number,
    private readonly onShed: (reason: ShedReason) => void,
  ) {}

  /** Requests waiting for a free executor slot. */
  get queueDepth(): number {
    return this.waiting.length;
  }

  /** Requests running now (including ones past their deadline whose result will be discarded). */
  get inFlight(): number {
    return this.running;
  }

  /** Whether a new request would be shed right now (checked before charging a budget). */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.maxQueue;
  }

  /** Throws 503 (and counts a 'queue_full' shed) when a new request would be shed right now. */
  assertRoom(): void {
    if (!this.full) return;
    this.onShed('queue_full');
    throw unavailable('server busy: inference queue is full');
  }

  /**
   * Runs `work` when a slot frees, or throws 503 at once when the queue is full. After `deadlineMs` the
   * caller gets 503; work still running keeps its slot until it really ends (the worker is busy), and its
   * result is discarded.
   */
  submit<T>(work: () => Promise<T>, deadlineMs: number): Promise<T> {
    try {
      this.assertRoom();
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        work,
        resolve: resolve as (v: unknown) => void,
        reject,
        settled: false,
        timer: undefined as never,
      };
      job.timer = setTimeout(() => {
        const i = this.waiting.indexOf(job);
        if (i >= 0) this.waiting.splice(i, 1);
        this.settle(job, () =>
          job.reject(unavailable(`inference deadline of ${deadlineMs} ms exceeded`)),
        );
        this.onShed('deadline');
      }, deadlineMs);
      if (this.running < this.concurrency) this.start(job);
      else this.waiting.push(job);
    });
  }

  private settle(job: Job, answer: () => void): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    answer();
  }

  private start(job: Job): void {
    this.running++;
    let p: Promise<unknown>;
    try {
      p = job.work();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (v) => this.settle(job, () => job.resolve(v)),
      (e) => this.settle(job, () => job.reject(e)),
    ).finally(() => {
      this.running--;
      const next = this.waiting.shift();
      if (next) this.start(next);
    });
  }
}
