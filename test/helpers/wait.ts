// Polling for a condition another process brings about (a file appears, a child gets far
// enough): the one waitFor the tests share. It returns when `cond` holds or `ms` has passed;
// callers assert the condition afterwards, so a timeout fails with their message.

export async function waitFor(cond: () => boolean, ms: number, everyMs = 5): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, everyMs));
}
