// Budget counts in a Cloudflare Durable Object: the store the Worker entry uses when a namespace is bound, and
// the object class itself. One object per budget key, so each counter lives in one place and every charge to it
// is serialized there: the same fixed window as the in-memory and Redis stores, shared by every isolate.
import type { BudgetResult, BudgetStore } from './store.ts';

// The few platform types used here, written structurally so this file needs no Workers type package and
// touches no runtime global: the Worker passes its binding and the platform constructs the class.

/** A Durable Object namespace binding (env.BUDGETS): names to ids, ids to stubs. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** The part of a Durable Object's state used here: its transactional storage and alarm. */
export interface DurableObjectStateLike {
  storage: {
    get<T>(key: string): Promise<T | undefined>;
    put<T>(key: string, value: T): Promise<void>;
    deleteAll(): Promise<void>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
}

interface Window {
  count: number;
  resetAt: number;
}

/** Charges through one Durable Object per key (`namespace.idFromName(key)`). */
export class DurableObjectBudgetStore implements BudgetStore {
  constructor(private readonly namespace: DurableObjectNamespaceLike) {}

  async take(key: string, n: number, limit: number, windowMs: number): Promise<BudgetResult> {
    return (await this.call(key, 'take', { n, limit, windowMs })) as BudgetResult;
  }

  async refund(key: string, n: number): Promise<void> {
    await this.call(key, 'refund', { n });
  }

  /** One request to the key's object; a non-200 answer rejects, so QueryBudget fails closed with 503. */
  private async call(key: string, op: 'take' | 'refund', body: object): Promise<unknown> {
    const stub = this.namespace.get(this.namespace.idFromName(key));
    // The host is never resolved: a stub's fetch goes to the object, which reads only path and body.
    const res = await stub.fetch(
      new Request(`https://budget.invalid/${op}`, { method: 'POST', body: JSON.stringify(body) }),
    );
    if (!res.ok) throw new Error(`budget object: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

const isCount = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;

/**
 * What the Durable Object does (the Worker entry's BudgetDurableObject, bound e.g. as BUDGETS, delegates its fetch
 * and alarm here): holds one key's window in storage. NOTE: no other event runs while a handler awaits its own
 * storage calls (the platform's input gate), so get → check → put is atomic per key without a lock. An alarm at
 * the window's end deletes it, so identities that rotate leave nothing behind.
 */
export class BudgetCounter {
  constructor(private readonly state: DurableObjectStateLike) {}

  async fetch(request: Request): Promise<Response> {
    const op = new URL(request.url).pathname;
    let body: Record<string, unknown>;
    try {
      body = (await request.json()) as Record<string, unknown>;
    } catch {
      return Response.json({ error: 'expected a JSON body' }, { status: 400 });
    }
    if (op === '/take' && isCount(body.n, 0) && isCount(body.limit, 1) && isCount(body.windowMs, 1))
      return Response.json(
        await this.take(body.n as number, body.limit as number, body.windowMs as number),
      );
    if (op === '/refund' && isCount(body.n, 0)) {
      await this.refund(body.n as number);
      return Response.json({});
    }
    return Response.json({ error: `not a budget operation: ${op}` }, { status: 400 });
  }

  /** Deletes the ended window (scheduled by take at the window's end). */
  async alarm(): Promise<void> {
    const w = await this.state.storage.get<Window>('window');
    if (!w || w.resetAt <= Date.now()) await this.state.storage.deleteAll();
  }

  private async take(n: number, limit: number, windowMs: number): Promise<BudgetResult> {
    const now = Date.now();
    let w = await this.state.storage.get<Window>('window');
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      await this.state.storage.setAlarm(w.resetAt);
    }
    const allowed = w.count + n <= limit;
    if (allowed) w.count += n;
    await this.state.storage.put('window', w);
    return { allowed, used: w.count, resetMs: Math.max(1, w.resetAt - now) };
  }

  private async refund(n: number): Promise<void> {
    const w = await this.state.storage.get<Window>('window');
    if (!w || w.resetAt <= Date.now()) return;
    await this.state.storage.put('window', { ...w, count: Math.max(0, w.count - n) });
  }
}
