// Readiness of the stores behind budgets and detection: a store with a ping answers when its ping resolves.

/** Whether a store answers now: true without a ping, false when the ping fails. */
export async function storeAnswers(store: { ping?(): Promise<void> }): Promise<boolean> {
  if (!store.ping) return true;
  try {
    await store.ping();
    return true;
  } catch {
    return false;
  }
}
